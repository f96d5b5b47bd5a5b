"""Benchmark: report intake on PostgreSQL with concurrent clients, against the same database's
single-row insert ceiling measured in the same run; lock waits and the audit sealer's lag.

Usage: PYTHONPATH=. .venv/bin/python bench/concurrent_intake.py [--clients 8] [--seconds 20]
       [--servers 1,2] [--server-url postgresql://…]

1. Ceiling (the baseline): N clients, each on its own connection, insert one row and commit, as
   fast as they can, into a scratch table of the same database.
2. The floor: the same clients, bodies and HTTP stack (uvicorn, FastAPI, a synchronous endpoint,
   a pooled engine) against ``bench/floor_app.py``, whose endpoint inserts one row and commits and
   does nothing else: the most any report intake on this stack can reach on the machine.
3. Intake, in the deployment shape: `tanggap serve --workers W` (HTTP only) beside one
   `tanggap worker` (triage, the audit sealer and every other job), real processes, and N client
   threads that POST /v1/reports on distinct links over real HTTP for the same time. Reported:
   reports/s, the ratio to the ceiling, latency p50/p99, and — sampled every 50 ms from
   pg_stat_activity — how often a backend waited on a lock and in which statement, and the sealer's
   lag (the age of the oldest unsealed event); then the CPU each part used per report (the API
   processes, the worker, PostgreSQL, the clients) and in all, which shows what bounds the rate.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from bench.common import cpu_seconds, ready, serve, start_worker

from tanggap import logs
from tanggap.config import Settings
from tanggap.db.migrate import upgrade
from tanggap.db.wake import AUDIT_SEALER
from tanggap.runtime import build_runtime
from tests.factories import bearer, make_tokens, post_body, report_body

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
POSTS = 300_000
UVICORN = str(Path(sys.executable).with_name("uvicorn"))


def postgres_pids() -> list[int]:
    """Return the processes of the PostgreSQL server (the only one a run starts)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@dataclass(frozen=True)
class Cpu:
    """CPU seconds each part of a run used."""

    api: float
    worker: float
    database: float
    clients: float

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(
            self.api - other.api,
            self.worker - other.worker,
            self.database - other.database,
            self.clients - other.clients,
        )


def cpu_now(api: int, worker: int) -> Cpu:
    return Cpu(
        api=cpu_seconds([api]),
        worker=cpu_seconds([worker]),
        database=cpu_seconds(postgres_pids()),
        clients=cpu_seconds([os.getpid()], descendants=False),
    )


def wait_for_sealer(url: str, worker: int, timeout: float = 120) -> None:
    """Return once the worker's audit sealer has run a round (its heartbeat is written)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(plain(url), autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT 1 FROM job_heartbeats WHERE job = %s AND process LIKE %s",
                (AUDIT_SEALER, f"%:{worker}"),
            ).fetchone()
            if row:
                return
            time.sleep(0.2)
    raise RuntimeError("the worker's audit sealer did not start")


def plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def ceiling(url: str, clients: int, seconds: float) -> float:
    """Single-row inserts per second with ``clients`` connections, each committing every row."""
    with psycopg.connect(plain(url), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_ceiling")
        conn.execute("CREATE TABLE bench_ceiling (id bigserial PRIMARY KEY, body text)")
    counts = [0] * clients
    stop = threading.Event()

    def insert(n: int) -> None:
        with psycopg.connect(plain(url), autocommit=True) as conn:
            while not stop.is_set():
                conn.execute("INSERT INTO bench_ceiling (body) VALUES (%s)", (f"row {n}",))
                counts[n] += 1

    threads = [threading.Thread(target=insert, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)


@dataclass(frozen=True)
class Found:
    """One load's figures."""

    rate: float
    p50_ms: float
    p99_ms: float
    samples: int
    samples_with_lock_wait: int
    lock_waits: list[tuple[str, int]]
    sealer_lag_p50_s: float
    sealer_lag_p99_s: float
    reports: int
    seconds: float


class Sampler(threading.Thread):
    """Reads pg_stat_activity and the unsealed tail every 50 ms while the load runs."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = plain(url)
        self.stop = threading.Event()
        self.samples = 0
        self.lock_waits: Counter[str] = Counter()
        self.samples_with_wait = 0
        self.lag: list[float] = []

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(0.05):
                waiting = conn.execute(
                    "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 70) FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                ).fetchall()
                oldest = conn.execute(
                    "SELECT EXTRACT(EPOCH FROM now() - MIN(occurred_at)) FROM audit_events"
                    " WHERE seq IS NULL"
                ).fetchone()
                self.samples += 1
                self.samples_with_wait += bool(waiting)
                self.lock_waits.update(row[0] for row in waiting)
                self.lag.append(float(oldest[0] or 0.0) if oldest else 0.0)


def seed_posts(url: str, platform_token: str, port: int, count: int) -> None:
    """Store ``count`` posts of one channel (message ids 1…count) in one statement: intake, not
    ingest, is what is measured."""
    with httpx.Client(base_url=base(port), timeout=60) as client:
        first = client.post(
            "/v1/posts",
            json=post_body(channel="benchload", message_id=count + 1),
            headers=bearer(platform_token),
        )
        assert first.status_code in (200, 201), first.text
    with psycopg.connect(plain(url), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO posts (channel_id, message_id, text, posted_at, author_ref, language,"
            " ingested_at, updated_at)"
            " SELECT c.id, g, 'Klaim hadiah sekarang', now(), 'bench', 'id', now(), now()"
            " FROM channels c, generate_series(1, %s) g WHERE c.handle = 'benchload'"
            " ON CONFLICT DO NOTHING",
            (count,),
        )


def drive(
    port: int,
    clients: int,
    seconds: float,
    first: int,
    send: Callable[[httpx.Client, int, int], int],
) -> tuple[list[float], float]:
    """N client threads, each with its own connection, call ``send(client, n, message)`` on fresh
    message numbers for ``seconds``; return every latency (sorted) and the time it took."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    messages = itertools.count(first)  # next() on a count is atomic under the GIL
    stop = threading.Event()

    def run(n: int) -> None:
        with httpx.Client(base_url=base(port), timeout=60) as client:
            while not stop.is_set():
                message = next(messages)
                started = time.perf_counter()
                status = send(client, n, message)
                latencies[n].append(time.perf_counter() - started)
                assert status == 202, status

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return sorted(x for per in latencies for x in per), time.perf_counter() - started


def base(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(len(values) * share))]


def intake(
    url: str, port: int, tokens: list[str], clients: int, seconds: float, first: int
) -> Found:
    """N clients submit reports on fresh links for ``seconds``; return rate and latencies."""

    def send(client: httpx.Client, n: int, message: int) -> int:
        return client.post(
            "/v1/reports",
            json=report_body(target=f"https://t.me/benchload/{message}"),
            headers=bearer(tokens[n % len(tokens)]),
        ).status_code

    sampler = Sampler(url)
    sampler.start()
    every, elapsed = drive(port, clients, seconds, first, send)
    sampler.stop.set()
    sampler.join()
    lag = sorted(sampler.lag)
    return Found(
        rate=len(every) / elapsed,
        p50_ms=1000 * percentile(every, 0.5),
        p99_ms=1000 * percentile(every, 0.99),
        samples=sampler.samples,
        samples_with_lock_wait=sampler.samples_with_wait,
        lock_waits=sampler.lock_waits.most_common(3),
        sealer_lag_p50_s=percentile(lag, 0.5),
        sealer_lag_p99_s=percentile(lag, 0.99),
        reports=len(every),
        seconds=elapsed,
    )


def floor(url: str, port: int, clients: int, seconds: float) -> tuple[float, float, float, float]:
    """The same clients and report bodies against ``bench/floor_app.py`` (one insert and commit a
    request, nothing else); return requests/s, p50 and p99 in ms, and its server's CPU per
    request in ms."""
    environment = {**os.environ, "BENCH_FLOOR_DATABASE_URL": plain(url)}
    command = [UVICORN, "bench.floor_app:app", "--port", str(port), "--log-level", "warning"]
    process = ready(subprocess.Popen(command, env=environment), f"{base(port)}/openapi.json")
    try:

        def send(client: httpx.Client, n: int, message: int) -> int:
            body = report_body(target=f"https://t.me/benchload/{message}")
            return client.post("/floor", json=body, headers=bearer("floor")).status_code

        before = cpu_seconds([process.pid])
        every, elapsed = drive(port, clients, seconds, 1, send)
        used = cpu_seconds([process.pid]) - before
    finally:
        process.terminate()
        process.wait(timeout=60)
    rate = len(every) / elapsed
    return (
        rate,
        1000 * percentile(every, 0.5),
        1000 * percentile(every, 0.99),
        1000 * used / len(every),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--servers", default="1,2", help="uvicorn worker counts to run, in order")
    parser.add_argument("--server-url", help="a PostgreSQL server to use instead of pgserver")
    args = parser.parse_args()
    logs.configure("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        url = args.server_url
        if not url:
            import pgserver

            server = pgserver.get_server(Path(tmp) / "pg", cleanup_mode="stop")
            url = server.get_uri()
        upgrade(url)
        runtime = build_runtime(Settings(env="test", database_url=url, secret_key=SECRET))
        made = make_tokens(runtime)
        tokens = [made.flagger]
        runtime.close()
        top = ceiling(url, args.clients, args.seconds)
        print(f"ceiling: {top:,.0f} single-row inserts/s with {args.clients} clients")
        rate, p50, p99, cost = floor(url, 8699, args.clients, args.seconds)
        print(
            f"floor (bench/floor_app.py: one insert and commit a request over HTTP): "
            f"{rate:,.0f} requests/s ({100 * rate / top:.1f} % of the ceiling), "
            f"p50 {p50:.0f} ms, p99 {p99:.0f} ms; its server's CPU {cost:.2f} ms a request"
        )
        results: dict[int, Found] = {}
        next_message = 1
        for number, workers in enumerate(int(w) for w in args.servers.split(",")):
            port = 8700 + number
            process = serve(url, port, workers, SECRET, TANGGAP_JOBS="worker")
            worker = start_worker(url, SECRET)
            try:
                if number == 0:
                    seed_posts(url, made.platform, port, POSTS)
                wait_for_sealer(url, worker.pid)
                before = cpu_now(process.pid, worker.pid)
                found = intake(url, port, tokens, args.clients, args.seconds, first=next_message)
                used = cpu_now(process.pid, worker.pid) - before
                next_message += round(found.rate * args.seconds * 1.2) + 1000
            finally:
                for running in (process, worker):
                    running.terminate()
                    running.wait(timeout=60)
            results[workers] = found
            print(
                f"{workers} API process(es): {found.rate:,.0f} reports/s "
                f"({100 * found.rate / top:.1f} % of the ceiling), "
                f"p50 {found.p50_ms:.0f} ms, p99 {found.p99_ms:.0f} ms; "
                f"lock waits in {found.samples_with_lock_wait} of {found.samples} samples "
                f"{found.lock_waits}; sealer lag p50 {found.sealer_lag_p50_s:.2f} s, "
                f"p99 {found.sealer_lag_p99_s:.2f} s"
            )
            per = 1000 / found.reports
            busy = (used.api + used.worker + used.database + used.clients) / found.seconds
            print(
                f"   CPU per report: API {used.api * per:.1f} ms, worker {used.worker * per:.1f} "
                f"ms, PostgreSQL {used.database * per:.1f} ms, clients {used.clients * per:.1f} "
                f"ms; cores busy: {busy:.2f} of {os.cpu_count()}"
            )
        if len(results) == 2:
            (w1, one), (w2, two) = results.items()
            print(f"ratio {w2} / {w1} API processes: {two.rate / one.rate:.2f}")
        if server is not None:
            server.cleanup()


if __name__ == "__main__":
    main()
