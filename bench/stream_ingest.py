"""Benchmark: posts from a NATS JetStream stream through ``tanggap ingest`` into the database.

Usage: PYTHONPATH=. .venv/bin/python bench/stream_ingest.py [--rate 100] [--backlog-seconds 60]
       [--latency-posts 400] [--sqlite | --database-url URL]

Real parts: a ``nats-server -js`` on 127.0.0.1, ``tanggap ingest`` processes, PostgreSQL
(pgserver unless ``--database-url``; ``--sqlite`` for the embedded database), real Indonesian
tweets and SMS of ../shared/data/*/train.csv, the packaged rules plus one rule that removes on
sight (a fraud domain) and the packaged classifier.

Figures, all from one run:
1. The baseline: the text engines alone (language, normalisation, MinHash, rules, classifier) on
   the same posts, in this process on one core: posts/s.
2. A backlog of ``--backlog-seconds`` of traffic at ``--rate`` posts/s waits in the stream while
   no consumer runs (an outage); then 1 consumer starts, traffic going on at the same rate, and
   the time until it has caught up (less than a second of traffic, or one batch, waits) is measured,
   with the posts stored per second and per CPU-second of the consumer processes (the "per core"
   figure; the database server's and NATS's CPU are given beside it). The same again with 2
   consumers, on the same database, for the ratio 2 vs 1.
3. Publish → takedown: with 1 consumer running and the stream drained, ``--latency-posts`` posts
   at ``--rate``, one in ``--remove-every`` carrying the removing rule's domain (a fraud text,
   each a variant of the others); for each of those, the time
   from just before ``js.publish`` to the moment the platform adapter applied the removal
   (``actions.delivered_at``): p50, p99, max.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from bench.common import cpu_seconds, databases
from bench.ingest_pipeline import texts
from nats.js.errors import NotFoundError
from sqlalchemy import Engine, func, select, text

from tanggap import logs
from tanggap.actions.models import Action
from tanggap.auth import service as auth
from tanggap.cases.models import Case
from tanggap.config import DEFAULT_RULES_DIR, Settings
from tanggap.db.migrate import upgrade
from tanggap.db.session import make_engine
from tanggap.detectors import classifier
from tanggap.detectors.language import detect_language
from tanggap.detectors.minhash import signature
from tanggap.detectors.normalise import normalise
from tanggap.posts.models import Post
from tanggap.runtime import build_runtime
from tests.nats_server import start_nats

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
TANGGAP = str(Path(sys.executable).parent / "tanggap")
SUBJECT = "tanggap.posts"
STREAM = "TANGGAP_POSTS"
CONSUMER = "tanggap-ingest"
DOMAIN = "klaim-hadiah.example.net"
RULES = f"""version: 1
rules:
  - id: bench.take-down
    category: fraud
    domains: [{DOMAIN}]
    effect: {{auto_remove: true}}
"""
CHANNELS = 200
POLL = 0.05  # seconds between looks at the stream's state (measuring, not synchronising)


class Posts:
    """Post messages with message ids never used before in this run."""

    def __init__(self, corpus: list[str]) -> None:
        self.corpus = corpus
        self.next_id = 1

    def take(self, count: int, removing_every: int = 0) -> list[tuple[int, bytes]]:
        """Return (message id, message) for ``count`` posts; every ``removing_every``-th carries
        the domain the removing rule acts on."""
        found = []
        for _ in range(count):
            message_id = self.next_id
            self.next_id += 1
            body = self.corpus[message_id % len(self.corpus)]
            if removing_every and message_id % removing_every == 0:
                body = (
                    f"Selamat! Nomor {message_id} menang undian Rp {message_id % 90 + 10} juta,"
                    f" klaim hadiah Anda di https://{DOMAIN}/form?k={message_id} sekarang"
                )
            post = {
                "channel": f"kanal{message_id % CHANNELS}",
                "message_id": message_id,
                "text": body,
                "posted_at": datetime.now(UTC).isoformat(),
                "author_id": message_id % 5000,
            }
            found.append((message_id, json.dumps(post).encode()))
        return found


async def _publish(url: str, messages: list[tuple[int, bytes]], rate: float) -> dict[int, float]:
    """Publish at ``rate`` per second (0: as fast as the stream stores them); return the wall
    time just before each publish, by message id."""
    client = await nats.connect(url)
    js = client.jetstream()
    sent: dict[int, float] = {}
    started = time.monotonic()
    try:
        for n, (message_id, payload) in enumerate(messages):
            if rate:
                due = started + n / rate
                if (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
            sent[message_id] = time.time()
            await js.publish(SUBJECT, payload)
    finally:
        await client.close()
    return sent


def publish(url: str, messages: list[tuple[int, bytes]], rate: float = 0) -> dict[int, float]:
    return asyncio.run(_publish(url, messages, rate))


async def _backlog(url: str) -> int:
    client = await nats.connect(url)
    try:
        info = await client.jetstream().consumer_info(STREAM, CONSUMER)
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)
    except NotFoundError:  # no consumer started yet: everything waits
        return sys.maxsize
    finally:
        await client.close()


def backlog(url: str) -> int:
    """Messages the consumer has not yet acknowledged (waiting or delivered)."""
    return asyncio.run(_backlog(url))


def create_stream(url: str) -> None:
    async def create() -> None:
        client = await nats.connect(url)
        await client.jetstream().add_stream(
            name=STREAM, subjects=[SUBJECT], retention="workqueue", storage="file"
        )
        await client.close()

    asyncio.run(create())


@contextmanager
def consumers(count: int, env: dict[str, str]) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes = [
        subprocess.Popen([TANGGAP, "ingest"], env=env, stdout=subprocess.DEVNULL)
        for _ in range(count)
    ]
    try:
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


ENGINES: dict[str, Engine] = {}


def engine(url: str) -> Engine:
    if url not in ENGINES:
        ENGINES[url] = make_engine(url)
    return ENGINES[url]


def stored(url: str) -> int:
    with engine(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(Post)).scalar_one()


def server_pids(url: str) -> list[int]:
    """The database server's processes (PostgreSQL's postmaster and its backends)."""
    if not url.startswith("postgresql"):
        return []
    with engine(url).connect() as conn:
        backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    parent = int(Path(f"/proc/{backend}/stat").read_text().rpartition(")")[2].split()[1])
    return [parent]


def engines_alone(corpus: list[str], count: int) -> float:
    """The baseline: posts/s of the text engines alone, one core, on ``count`` posts."""
    model = classifier.packaged()
    assert model is not None
    detect_language("Selamat pagi semua")
    posts = corpus[:count]
    started = time.process_time()
    for body in posts:
        language = detect_language(body)
        normalised = normalise(body)
        found = signature(normalised)
        if found is not None:
            found.bands()
            model.flagged(body, normalised)
            del language
    return count / (time.process_time() - started)


def drain(
    url: str, nats_url: str, env: dict[str, str], posts: Posts, args: Any, count: int
) -> dict[str, float]:
    """An outage's backlog, then ``count`` consumers with traffic going on: the figures."""
    backlog_posts = int(args.rate * args.backlog_seconds)
    before = stored(url)
    publish(nats_url, posts.take(backlog_posts))
    live_stop = threading.Event()
    live_sent = [0]

    def live() -> None:
        while not live_stop.is_set():
            burst = posts.take(max(1, int(args.rate // 10)))
            publish(nats_url, burst, rate=args.rate)
            live_sent[0] += len(burst)

    pg = server_pids(url)
    nats_pid = [int(p) for p in os.environ.get("BENCH_NATS_PID", "").split() if p]
    with consumers(count, env) as processes:
        pids = [p.pid for p in processes]
        # Clock from the first post stored: the processes' start-up (imports, models) is not
        # consumption.
        while stored(url) == before:
            time.sleep(POLL)
        cpu0 = cpu_seconds(pids), cpu_seconds(pg), cpu_seconds(nats_pid)
        first = stored(url)
        started = time.monotonic()
        feeder = threading.Thread(target=live)
        feeder.start()
        # Caught up: less than a second of traffic waits (live traffic always has a batch in
        # hand, so "nothing pending" would come only by chance).
        caught_up = max(args.rate, args.batch)
        while backlog(nats_url) > caught_up:
            time.sleep(POLL)
        seconds = time.monotonic() - started
        live_stop.set()
        feeder.join()
        done = stored(url)
        cpu1 = cpu_seconds(pids), cpu_seconds(pg), cpu_seconds(nats_pid)
        while backlog(nats_url) > 0:  # the live traffic's tail, before the next phase
            time.sleep(POLL)
    consumed = done - first
    consumer_cpu = cpu1[0] - cpu0[0]
    return {
        "consumers": count,
        "backlog": backlog_posts,
        "live": live_sent[0],
        "seconds": seconds,
        "posts": consumed,
        "posts_per_s": consumed / seconds,
        "posts_per_cpu_s": consumed / consumer_cpu if consumer_cpu else float("nan"),
        "db_cpu_ms_per_post": 1000 * (cpu1[1] - cpu0[1]) / consumed,
        "nats_cpu_ms_per_post": 1000 * (cpu1[2] - cpu0[2]) / consumed,
        "consumer_cpu_ms_per_post": 1000 * consumer_cpu / consumed,
    }


def takedowns(url: str, nats_url: str, env: dict[str, str], posts: Posts, args: Any) -> list[float]:
    """Publish → removal applied, in seconds, for each removing post."""
    with consumers(1, env):
        warm = posts.take(5)
        publish(nats_url, warm)
        while backlog(nats_url) > 0:
            time.sleep(POLL)
        every = args.remove_every
        messages = posts.take(args.latency_posts, removing_every=every)
        sent = publish(nats_url, messages, rate=args.rate)
        removing = {m for m, _ in messages if m % every == 0}
        deadline = time.monotonic() + 120
        delivered: dict[int, float] = {}
        stored_at: dict[int, float] = {}
        while len(delivered) < len(removing) and time.monotonic() < deadline:
            with engine(url).connect() as conn:
                rows = conn.execute(
                    select(Post.message_id, Post.ingested_at, Action.delivered_at)
                    .join(Case, Case.post_id == Post.id)
                    .join(Action, Action.case_id == Case.id)
                    .where(Action.delivered_at.is_not(None))
                ).all()
            for message_id, ingested_at, at in rows:
                if message_id in removing:
                    delivered[message_id] = _seconds(at)
                    stored_at[message_id] = _seconds(ingested_at)
            time.sleep(POLL)
    missing = removing - delivered.keys()
    if missing:
        raise SystemExit(f"{len(missing)} removals not applied within 120 s")
    stages = sorted(stored_at[m] - sent[m] for m in removing)
    print(
        f"of which publish -> post stored: p50 {statistics.median(stages) * 1000:.0f} ms,"
        f" p99 {percentile(stages, 0.99) * 1000:.0f} ms"
    )
    return sorted(delivered[m] - sent[m] for m in removing)


def _seconds(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100, help="live traffic, posts/s")
    parser.add_argument("--backlog-seconds", type=float, default=60)
    parser.add_argument("--latency-posts", type=int, default=2000)
    parser.add_argument(
        "--remove-every", type=int, default=50, help="one post in this many is removed on sight"
    )
    parser.add_argument("--batch", type=int, default=100, help="TANGGAP_STREAM_BATCH_SIZE")
    parser.add_argument("--sqlite", action="store_true", help="the embedded database instead")
    parser.add_argument("--database-url", help="a PostgreSQL server to create a database on")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--latency-only", action="store_true", help="skip the backlog runs")
    args = parser.parse_args()
    logs.configure("WARNING")
    corpus = texts(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server = start_nats(root / "nats")
        os.environ["BENCH_NATS_PID"] = str(server.process.pid)
        try:
            with databases(
                ("tanggap_bench_stream",),
                root,
                postgres=not args.sqlite,
                server_url=args.database_url,
            ) as urls:
                url = urls[0]
                upgrade(url)
                runtime = build_runtime(Settings(env="test", database_url=url, secret_key=SECRET))
                with runtime.factory() as session, session.begin():
                    auth.create_principal(session=session, role="platform", name="bench stream")
                runtime.close()
                rules = root / "rules"
                rules.mkdir()
                (rules / "bench.yaml").write_text(RULES, encoding="utf-8")
                for packaged in DEFAULT_RULES_DIR.glob("*.yaml"):  # and the packaged ones
                    shutil.copy(packaged, rules / packaged.name)
                env = {
                    **os.environ,
                    "TANGGAP_DATABASE_URL": url,
                    "TANGGAP_ENV": "test",
                    "TANGGAP_SECRET_KEY": SECRET,
                    "TANGGAP_LOG_LEVEL": "WARNING",
                    "TANGGAP_NATS_URL": server.url,
                    "TANGGAP_STREAM_PRINCIPAL": "bench stream",
                    "TANGGAP_STREAM_BATCH_SIZE": str(args.batch),
                    "TANGGAP_RULES_DIR": str(rules),
                }
                create_stream(server.url)
                posts = Posts(corpus)
                baseline = engines_alone(corpus, 3000)
                runs = (
                    []
                    if args.latency_only
                    else [drain(url, server.url, env, posts, args, n) for n in (1, 2)]
                )
                latencies = takedowns(url, server.url, env, posts, args)
                for each in ENGINES.values():
                    each.dispose()
        finally:
            server.stop()
    where = "SQLite (file)" if args.sqlite else "PostgreSQL"
    print(f"database: {where}; stream batch {args.batch}; live traffic {args.rate:.0f} posts/s")
    print(f"text engines alone, one core (baseline): {baseline:,.0f} posts/s")
    for run in runs:
        print(
            f"{run['consumers']} consumer(s): backlog {run['backlog']:,} + live {run['live']:,}"
            f" drained in {run['seconds']:.1f} s; {run['posts']:,} posts stored,"
            f" {run['posts_per_s']:,.0f} posts/s; {run['posts_per_cpu_s']:,.0f} posts per"
            f" consumer CPU-second ({run['posts_per_cpu_s'] / baseline:.2f} of the engines alone);"
            f" CPU per post: consumers {run['consumer_cpu_ms_per_post']:.2f} ms,"
            f" database {run['db_cpu_ms_per_post']:.2f} ms,"
            f" NATS {run['nats_cpu_ms_per_post']:.2f} ms"
        )
    if runs:
        print(f"2 consumers vs 1: {runs[1]['posts_per_s'] / runs[0]['posts_per_s']:.2f}")
    print(
        f"publish -> takedown ({len(latencies)} removals): p50"
        f" {statistics.median(latencies) * 1000:.0f} ms, p99"
        f" {percentile(latencies, 0.99) * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
