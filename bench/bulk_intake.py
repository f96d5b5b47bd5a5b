"""Benchmark: bulk intake of 1,000 links in one request, on SQLite and on PostgreSQL.

Usage: PYTHONPATH=. .venv/bin/python bench/bulk_intake.py [--rounds 3] [--postgres]

Each round sends 1,000 new links through ``POST /v1/reports/bulk`` (in-process HTTP stack, real
database) and, as the baseline in the same run, the same number of links one request at a time
through ``POST /v1/reports``. The ratio says what one bulk request saves.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from tanggap import logs
from tanggap.config import Settings
from tanggap.db.migrate import upgrade
from tanggap.posts import service as posts
from tanggap.posts.schemas import PostIn
from tanggap.runtime import build_runtime
from tanggap.server import create_app
from tests.factories import bearer, make_tokens, post_body, report_body

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
LINKS = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    logs.configure("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        url = f"sqlite:///{tmp}/bench.db"
        if args.postgres:
            import pgserver

            server = pgserver.get_server(Path(tmp) / "pg", cleanup_mode="stop")
            url = server.get_uri()
        upgrade(url)
        runtime = build_runtime(Settings(env="test", database_url=url, secret_key=SECRET))
        tokens = make_tokens(runtime)
        total = LINKS * args.rounds * 2
        with runtime.factory() as session, session.begin():
            for message_id in range(1, total + 1):
                posts.ingest(
                    session=session,
                    data=PostIn(**post_body(channel="benchchannel", message_id=message_id)),
                    secret_key=SECRET,
                    actor="bench",
                    inspector=runtime.pipeline,
                )
        app = create_app(runtime=runtime, run_dispatcher=False)
        bulk_seconds, single_seconds, next_id = [], [], 1
        with TestClient(app) as client:
            for _ in range(args.rounds):
                lines = [
                    report_body(f"https://t.me/benchchannel/{n}")
                    for n in range(next_id, next_id + LINKS)
                ]
                started = time.perf_counter()
                answer = client.post(
                    "/v1/reports/bulk", json={"reports": lines}, headers=bearer(tokens.flagger)
                )
                bulk_seconds.append(time.perf_counter() - started)
                statuses = {r["status"] for r in answer.json()["results"]}
                assert answer.status_code == 200 and statuses == {"accepted"}, statuses
                next_id += LINKS
                started = time.perf_counter()
                for n in range(next_id, next_id + LINKS):
                    single = client.post(
                        "/v1/reports",
                        json=report_body(f"https://t.me/benchchannel/{n}"),
                        headers=bearer(tokens.flagger),
                    )
                    assert single.status_code == 202
                single_seconds.append(time.perf_counter() - started)
                next_id += LINKS
        runtime.close()
        if server is not None:
            server.cleanup()
    kind = "postgresql" if args.postgres else "sqlite"
    b, s = statistics.median(bulk_seconds), statistics.median(single_seconds)
    print(f"database: {kind}; {args.rounds} rounds of {LINKS} links")
    print(
        "bulk request wall time: median {:.2f} s (rounds: {})".format(
            b, ", ".join(f"{x:.2f}" for x in bulk_seconds)
        )
    )
    print(
        "1,000 single requests:  median {:.2f} s (rounds: {})".format(
            s, ", ".join(f"{x:.2f}" for x in single_seconds)
        )
    )
    print(f"ratio single/bulk: {s / b:.1f}x; bulk throughput {LINKS / b:,.0f} links/s")


if __name__ == "__main__":
    main()
