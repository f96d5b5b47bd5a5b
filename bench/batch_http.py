"""Benchmark: posts ingested over HTTP in batches (``POST /v1/posts/batch``), per server core.

Usage: PYTHONPATH=. .venv/bin/python bench/batch_http.py [--posts 9000] [--rounds 3]
       [--batch 100] [--clients 2] [--postgres | --database-url URL]

Real parts: ``tanggap serve`` in its own process, pinned to one core, in the embedded
one-process mode (the background jobs, the audit sealer among them, run inside it); SQLite by
default (a WAL file, as ``make run`` has it), PostgreSQL with ``--postgres`` (pgserver) or
``--database-url``; the packaged rules and classifier; distinct real tweets and SMS of
../shared/data/*/train.csv, every 50th an edited copy of another post; platform clients sending
batches over real HTTP from this process, on the other core.

Figures, from one run, in rounds (each round: the baseline, then the server, on the same core and
the round's own posts, so that the machine's changing speed hits both alike):
1. The baseline: the text engines alone (language, normalisation, MinHash and its bands, rules,
   classifier) on the round's texts, in this process on the server's core while the server
   waits: posts/s.
2. The posts the server stored per second of the run and per CPU-second of the server process,
   counted until the audit sealer has chained every event they wrote (everything the server does
   for them: HTTP, JSON, validation, detection, the writes, the commit, the jobs). The server
   is the only process on its core, so the two agree when the clients keep it busy.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
from bench.common import cpu_seconds, databases, serve
from bench.ingest_pipeline import text_engines, texts
from bench.near_dup_corpus import edited
from sqlalchemy import Engine, func, select

from tanggap import logs
from tanggap.audit.models import AuditEvent
from tanggap.config import Settings
from tanggap.db.migrate import upgrade
from tanggap.posts.models import Post
from tanggap.runtime import build_runtime
from tests.factories import bearer, make_token, post_body

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
CHANNELS = 100
COPY_EVERY = 50
WARMUP_BATCHES = 3


def bodies(corpus: list[str], first: int, seed: int) -> list[dict[str, object]]:
    """Post bodies for ``corpus``; every COPY_EVERY-th an edited copy of an earlier text."""
    rng = random.Random(seed)
    found = []
    for n, text in enumerate(corpus):
        if n >= COPY_EVERY and n % COPY_EVERY == COPY_EVERY - 1:
            text = edited(corpus[rng.randrange(n)], rng)
        message_id = first + n
        found.append(
            post_body(
                channel=f"kanal{message_id % CHANNELS}",
                message_id=message_id,
                text=text,
                author_id=n,
            )
        )
    return found


def send(port: int, token: str, payloads: list[bytes], clients: int) -> None:
    """Send the prepared batches from ``clients`` threads, each batch once; any refusal fails."""
    headers = {**bearer(token), "Content-Type": "application/json"}
    lock = threading.Lock()
    waiting = list(reversed(payloads))
    failures: list[str] = []

    def client() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            while True:
                with lock:
                    if not waiting or failures:
                        return
                    payload = waiting.pop()
                answer = http.post("/v1/posts/batch", content=payload, headers=headers)
                if answer.status_code != 200:
                    with lock:
                        failures.append(f"{answer.status_code}: {answer.text[:300]}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"the server refused a batch: {failures[0]}")


def counts(engine: Engine) -> tuple[int, int]:
    """The posts stored, and the audit events not yet sealed."""
    with engine.connect() as conn:
        posts = conn.execute(select(func.count()).select_from(Post)).scalar_one()
        unsealed = conn.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.seq.is_(None))
        ).scalar_one()
    return posts, unsealed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=9000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds, the sides alternating")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--postgres", action="store_true", help="use a pgserver PostgreSQL")
    parser.add_argument("--database-url", help="a PostgreSQL server to create a database on")
    args = parser.parse_args()
    logs.configure("WARNING")
    corpus = texts(args.seed)
    warmup = WARMUP_BATCHES * args.batch
    per_round = args.posts // args.rounds // args.batch * args.batch
    assert per_round and len(corpus) >= warmup + per_round * args.rounds, "not enough texts"
    every = bodies(corpus[: warmup + per_round * args.rounds], 1, args.seed)
    payloads = [
        json.dumps({"posts": every[at : at + args.batch]}, default=str).encode()
        for at in range(0, len(every), args.batch)
    ]
    cores = sorted(os.sched_getaffinity(0))
    server_core, client_cores = cores[-1], set(cores[:-1]) or {cores[-1]}
    engine_rates, server_rates, wall_rates = [], [], []
    with (
        tempfile.TemporaryDirectory() as tmp,
        databases(
            ["tanggap_bench_batch_http"],
            Path(tmp),
            postgres=args.postgres,
            server_url=args.database_url,
        ) as (url,),
    ):
        upgrade(url)
        runtime = build_runtime(Settings(env="test", database_url=url, secret_key=SECRET))
        token = make_token(runtime, "platform")
        engines = text_engines(runtime)
        for body in every[:warmup]:
            engines(body)
        port = 8790
        process = serve(url, port, 1, SECRET, TANGGAP_JOBS="inline", cpus=str(server_core))
        try:
            os.sched_setaffinity(0, client_cores)
            send(port, token, payloads[:WARMUP_BATCHES], 1)
            while counts(runtime.engine)[1]:
                time.sleep(0.1)
            for number in range(args.rounds):
                first = warmup + number * per_round
                # the engines alone on the server's core while the server waits, then the server
                os.sched_setaffinity(0, {server_core})
                started = time.perf_counter()
                for body in every[first : first + per_round]:
                    engines(body)
                engine_rates.append(per_round / (time.perf_counter() - started))
                os.sched_setaffinity(0, client_cores)
                batches = payloads[first // args.batch : (first + per_round) // args.batch]
                cpu_before = cpu_seconds([process.pid])
                started = time.perf_counter()
                send(port, token, batches, args.clients)
                while counts(runtime.engine)[1]:
                    time.sleep(0.05)
                wall_rates.append(per_round / (time.perf_counter() - started))
                server_rates.append(per_round / (cpu_seconds([process.pid]) - cpu_before))
            stored = counts(runtime.engine)[0]
        finally:
            process.terminate()
            process.wait(timeout=60)
            runtime.close()
    assert stored == warmup + per_round * args.rounds, f"{stored} posts stored"
    print(
        f"database: {url.split(':')[0]}; {args.rounds} rounds of {per_round:,} posts in batches "
        f"of {args.batch} from {args.clients} client(s); server pinned to core {server_core}"
    )
    for number, (alone, server, wall) in enumerate(
        zip(engine_rates, server_rates, wall_rates, strict=True), 1
    ):
        print(
            f"round {number}: text engines alone {alone:,.0f} posts/s; HTTP batch ingest "
            f"{wall:,.0f} posts/s stored and sealed, {server:,.0f} posts per server CPU-second "
            f"({server / alone:.2f} of the engines alone, {1000 / server:.2f} ms a post)"
        )
    ratios = [server / alone for server, alone in zip(server_rates, engine_rates, strict=True)]
    print(
        f"median: text engines alone {statistics.median(engine_rates):,.0f} posts/s (baseline); "
        f"{statistics.median(server_rates):,.0f} posts per server CPU-second; "
        f"{statistics.median(wall_rates):,.0f} posts/s; ratio {statistics.median(ratios):.2f}"
    )


if __name__ == "__main__":
    main()
