"""Benchmark: report intake through the whole HTTP stack, with and without Idempotency-Key.

Usage: .venv/bin/python bench/intake.py [--reports 500] [--postgres]
       .venv/bin/python bench/intake.py --durability [--reports 300]

Each round submits N reports on N distinct posts in-process (FastAPI TestClient, real database),
once without and once with an Idempotency-Key; the ratio of the two is the price of idempotency.
Rounds alternate so that machine noise hits both sides alike. Also times `audit verify`.

``--durability`` (SQLite): the same plain intake into two databases, one committing with
``synchronous=FULL`` (the default: an answered report survives power loss) and one with
``NORMAL`` (the baseline), rounds alternating; the ratio is the price of durable commits.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from tanggap import logs
from tanggap.audit import service as audit
from tanggap.config import Settings
from tanggap.db.migrate import upgrade
from tanggap.runtime import build_runtime
from tanggap.server import create_app
from tests.factories import bearer, make_tokens, post_body, report_body

SECRET = "bench-secret-key-that-is-long-enough-0123456789"


def database(postgres: bool, root: Path) -> tuple[str, object | None]:
    if not postgres:
        return f"sqlite:///{root}/bench.db", None
    import pgserver

    server = pgserver.get_server(root / "pg", cleanup_mode="stop")
    return server.get_uri(), server


def run_round(client: TestClient, token: str, first_id: int, count: int, keyed: bool) -> float:
    started = time.perf_counter()
    for message_id in range(first_id, first_id + count):
        headers = bearer(token, **({"Idempotency-Key": f"k-{message_id}"} if keyed else {}))
        answer = client.post(
            "/v1/reports",
            json=report_body(target=f"https://t.me/benchchannel/{message_id}"),
            headers=headers,
        )
        assert answer.status_code == 202, answer.text
    return count / (time.perf_counter() - started)


def durability(reports: int, rounds: int) -> None:
    """Time plain intake with synchronous=FULL against NORMAL, alternating rounds."""
    rates: dict[str, list[float]] = {"FULL": [], "NORMAL": []}
    with tempfile.TemporaryDirectory() as tmp:
        sides = {}
        for mode in rates:
            url = f"sqlite:///{tmp}/{mode.lower()}.db"
            upgrade(url)
            settings = Settings(
                env="test", database_url=url, secret_key=SECRET, sqlite_synchronous=mode
            )
            runtime = build_runtime(settings)
            tokens = make_tokens(runtime)
            client = TestClient(create_app(runtime=runtime, run_dispatcher=False))
            client.__enter__()
            for message_id in range(1, reports * rounds + 1):
                client.post(
                    "/v1/posts",
                    json=post_body(channel="benchchannel", message_id=message_id),
                    headers=bearer(tokens.platform),
                )
            sides[mode] = (runtime, client, tokens)
        for round_number in range(rounds):
            first_id = round_number * reports + 1
            for mode, (_, client, tokens) in sides.items():
                rates[mode].append(run_round(client, tokens.flagger, first_id, reports, False))
        for runtime, client, _ in sides.values():
            client.__exit__(None, None, None)
            runtime.close()
    full, normal = statistics.median(rates["FULL"]), statistics.median(rates["NORMAL"])
    print(f"database: sqlite (WAL); {rounds} rounds of {reports} reports each side")
    for mode, rate in (("FULL", full), ("NORMAL", normal)):
        rounds_text = ", ".join(f"{x:,.0f}" for x in rates[mode])
        print(f"synchronous={mode:<6} median {rate:,.0f} reports/s (rounds: {rounds_text})")
    print(f"ratio FULL/NORMAL: {full / normal:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=500, help="reports per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true", help="use a pgserver PostgreSQL")
    parser.add_argument(
        "--durability", action="store_true", help="SQLite synchronous=FULL against NORMAL"
    )
    args = parser.parse_args()
    logs.configure("WARNING")
    if args.durability:
        durability(args.reports, args.rounds)
        return

    with tempfile.TemporaryDirectory() as tmp:
        url, server = database(args.postgres, Path(tmp))
        upgrade(url)
        settings = Settings(env="test", database_url=url, secret_key=SECRET)
        runtime = build_runtime(settings)
        tokens = make_tokens(runtime)
        app = create_app(runtime=runtime, run_dispatcher=False)
        total = args.reports * args.rounds * 2
        with TestClient(app) as client:
            for message_id in range(1, total + 1):
                client.post(
                    "/v1/posts",
                    json=post_body(channel="benchchannel", message_id=message_id),
                    headers=bearer(tokens.platform),
                )
            plain, keyed, next_id = [], [], 1
            for _ in range(args.rounds):
                plain.append(run_round(client, tokens.flagger, next_id, args.reports, False))
                next_id += args.reports
                keyed.append(run_round(client, tokens.flagger, next_id, args.reports, True))
                next_id += args.reports
        started = time.perf_counter()
        sealed = runtime.seal_audit()
        seal_rate = sealed / (time.perf_counter() - started)
        with runtime.factory() as session:
            started = time.perf_counter()
            chain = audit.verify(session=session)
            verify_rate = chain.checked / (time.perf_counter() - started)
        runtime.close()
        if server is not None:
            server.cleanup()  # type: ignore[attr-defined]

    kind = "postgresql" if args.postgres else "sqlite"
    p, k = statistics.median(plain), statistics.median(keyed)
    print(f"database: {kind}; {args.rounds} rounds of {args.reports} reports each side")
    print(
        f"intake without Idempotency-Key: median {p:,.0f} reports/s (rounds: "
        + ", ".join(f"{x:,.0f}" for x in plain)
        + ")"
    )
    print(
        f"intake with Idempotency-Key:    median {k:,.0f} reports/s (rounds: "
        + ", ".join(f"{x:,.0f}" for x in keyed)
        + ")"
    )
    print(f"ratio keyed/plain: {k / p:.2f}")
    print(
        f"audit seal: {sealed:,} events at {seal_rate:,.0f} events/s; "
        f"audit verify: {chain.checked:,} events at {verify_rate:,.0f} events/s,"
        f" intact={chain.intact}"
    )


if __name__ == "__main__":
    main()
