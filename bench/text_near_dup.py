"""Benchmark: near-duplicate text lookup (``detection.service.near_copies``) over 1 M stored posts.

Usage: PYTHONPATH=. .venv/bin/python bench/text_near_dup.py [--posts 1000000] [--small 10000]
       [--queries 2000] [--rounds 3] [--postgres | --database-url URL] [--profile]

Posts (bench/near_dup_corpus.py): short Indonesian texts made from the real tweets and SMS of
../shared/data/*/train.csv, nearly all distinct, among them ``queries / 2`` planted groups of an
original and three edited copies; fingerprinted with the real ``normalise`` and ``signature`` and
bulk-loaded with their LSH bands into two databases migrated to head: a small one (``--small``
posts, the baseline) and a large one (the same posts and more, ``--posts`` in all). The queries (the
planted originals and as many posts without planted copies, in both databases) run on one pinned
core, rounds alternating between the databases so machine noise hits both alike; the ratio of the
rates shows how the lookup scales. Recall and precision are those of the planted copies at the
policy bound. ``--database-url`` names a PostgreSQL server where two databases may be created.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import pstats
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing import Pool
from pathlib import Path

from bench.common import databases, one_core
from bench.near_dup_corpus import (
    CHUNK,
    COPIES,
    SECRET,
    Corpus,
    background,
    corpus,
    fingerprinted,
    load,
    loading_engine,
)
from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session, sessionmaker

from tanggap import logs
from tanggap.config import Settings
from tanggap.db.migrate import upgrade
from tanggap.detection import service as detection
from tanggap.detection.models import FingerprintBand
from tanggap.posts.models import Post
from tanggap.runtime import Runtime, build_runtime


@dataclass
class Lookups:
    """What the rounds over one database measured."""

    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    found: dict[int, set[int]] = field(default_factory=dict)
    candidates: list[int] = field(default_factory=list)

    def percentile_ms(self, share: float) -> float:
        """Return a latency percentile over every round, in milliseconds."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def query_posts(session: Session, ids: list[int]) -> dict[int, Post]:
    """Load the query posts (outside the timing)."""
    posts: dict[int, Post] = {}
    for at in range(0, len(ids), 500):
        chosen = select(Post).where(Post.id.in_(ids[at : at + 500]))
        posts.update((post.id, post) for post in session.execute(chosen).scalars())
    return posts


def one_round(
    factory: sessionmaker[Session], ids: list[int], bound: float, warmup: int, into: Lookups
) -> None:
    """Time ``near_copies`` for every query post, after ``warmup`` untimed ones."""
    with factory() as session:
        posts = query_posts(session, ids)
        for post_id in ids[:warmup]:
            detection.near_copies(session=session, post=posts[post_id], bound=bound)
        spent = 0.0
        for post_id in ids:
            started = time.perf_counter()
            copies = detection.near_copies(session=session, post=posts[post_id], bound=bound)
            took = time.perf_counter() - started
            spent += took
            into.latencies.append(took)
            into.found[post_id] = {other.id for other, _ in copies}
        session.rollback()
    into.rates.append(len(ids) / spent)


def candidate_counts(factory: sessionmaker[Session], ids: list[int]) -> list[int]:
    """Count each query's LSH candidates as ``near_copies`` selects them, without its LIMIT."""
    counts = []
    band = FingerprintBand
    with factory() as session:
        for post_id in ids:
            mine = session.execute(select(band.band, band.key).where(band.post_id == post_id))
            matches = [(band.band == b) & (band.key == k) for b, k in mine]
            sharing = (
                select(band.post_id)
                .where(band.post_id != post_id)
                .where(or_(*matches))
                .distinct()
                .subquery()
            )
            counts.append(session.execute(select(func.count()).select_from(sharing)).scalar_one())
        session.rollback()
    return counts


def quality(data: Corpus, found: dict[int, set[int]]) -> tuple[float, float, float, int]:
    """Return recall (all planted copies, and those within the bound), precision, extra posts."""
    copies = sum(len(c) for c in data.planted.values())
    hits = sum(len(found[original] & c) for original, c in data.planted.items())
    reached = sum(len(found[o] & c & data.reachable) for o, c in data.planted.items())
    returned = sum(len(f) for f in found.values())
    precision = hits / returned if returned else 1.0
    return hits / copies, reached / max(1, len(data.reachable)), precision, returned - hits


def profile(factory: sessionmaker[Session], ids: list[int], bound: float) -> None:
    """Profile ``near_copies`` over the queries; print the top functions two ways."""
    profiler = cProfile.Profile()
    with factory() as session:
        posts = query_posts(session, ids)
        profiler.enable()
        for post_id in ids:
            detection.near_copies(session=session, post=posts[post_id], bound=bound)
        profiler.disable()
        session.rollback()
    stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
    for order in ("cumulative", "tottime"):
        print(f"--- profile of near_copies over {len(ids)} queries, by {order}")
        stats.sort_stats(order).print_stats(15)


def size_gb(runtime: Runtime) -> float:
    """Return the database's size on disk in GB."""
    if runtime.engine.dialect.name == "postgresql":
        with runtime.engine.connect() as conn:
            query = text("SELECT pg_database_size(current_database())")
            return conn.execute(query).scalar_one() / 1e9
    path = Path(runtime.engine.url.database or "")
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e9


def report(data: Corpus, name: str, measured: Lookups) -> None:
    """Print one line of figures."""
    recall, reachable, precision, extra = quality(data, measured.found)
    counts = sorted(measured.candidates)
    p99 = counts[int(0.99 * len(counts))]
    capped = sum(c > detection.MAX_CANDIDATES for c in counts) / len(counts)
    print(
        f"{name:>9} {statistics.median(measured.rates):>9,.0f} {measured.percentile_ms(0.5):>7.2f}"
        f" {measured.percentile_ms(0.99):>7.2f}  {statistics.mean(counts):>7.1f} / {p99:>5} /"
        f" {counts[-1]:>6}  {capped:>6.1%}  {recall:>6.3f}  {reachable:>12.3f}  {precision:>9.3f}"
        f"  {extra:>5}   rounds: " + ", ".join(f"{r:,.0f}" for r in measured.rates)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000, help="posts of the baseline")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--postgres", action="store_true", help="use a pgserver PostgreSQL")
    parser.add_argument("--database-url", help="a PostgreSQL server to create two databases on")
    parser.add_argument("--profile", action="store_true", help="profile the lookups at full size")
    args = parser.parse_args()
    logs.configure("WARNING")

    names = ("tanggap_bench_small", "tanggap_bench_large")
    with (
        tempfile.TemporaryDirectory() as tmp,
        databases(names, Path(tmp), postgres=args.postgres, server_url=args.database_url) as urls,
    ):
        runtimes = []
        for url in urls:
            upgrade(url)
            runtimes.append(
                build_runtime(Settings(env="test", database_url=url, secret_key=SECRET))
            )
        small, large = runtimes
        bound = small.policy.detection.near_duplicate_similarity
        data = corpus(args.small, args.queries, bound, args.seed)
        queries = list(data.planted) + data.plain
        random.Random(args.seed).shuffle(queries)

        seconds = []
        tasks = [
            (first, min(CHUNK, args.posts + 1 - first), args.seed + first)
            for first in range(args.small + 1, args.posts + 1, CHUNK)
        ]
        with Pool(2) as pool:
            parts = (data.first[at : at + 1000] for at in range(0, len(data.first), 1000))
            first = list(pool.imap(fingerprinted, parts))
            for url, more in ((urls[0], iter(())), (urls[1], pool.imap(background, tasks))):
                started = time.perf_counter()
                loader = loading_engine(url)
                load(loader, itertools.chain(first, more))
                loader.dispose()
                seconds.append(time.perf_counter() - started)

        measured = [Lookups(), Lookups()]
        with one_core() as core:
            for _ in range(args.rounds):
                for runtime, into in zip(runtimes, measured, strict=True):
                    one_round(runtime.factory, queries, bound, args.warmup, into)
            for runtime, into in zip(runtimes, measured, strict=True):
                into.candidates = candidate_counts(runtime.factory, queries)
            if args.profile:
                profile(large.factory, queries, bound)

        print(
            f"database: {small.engine.dialect.name}; bound {bound}; {len(queries)} queries"
            f" ({len(data.planted)} with {COPIES} planted copies each), rounds: {args.rounds},"
            f" alternating between the databases; lookups pinned to core {core}"
        )
        print(
            f"loading (fingerprints in 2 processes): {args.small:,} posts in {seconds[0]:.1f} s"
            f" ({size_gb(small):.3f} GB), {args.posts:,} in {seconds[1]:.1f} s"
            f" ({args.posts / seconds[1]:,.0f} posts/s, {size_gb(large):.2f} GB)"
        )
        print(
            "    posts  queries/s  p50 ms  p99 ms  candidates mean/p99/max  capped"
            "  recall  recall≥bound  precision  extra"
        )
        report(data, f"{args.small:,}", measured[0])
        report(data, f"{args.posts:,}", measured[1])
        ratio = statistics.median(measured[1].rates) / statistics.median(measured[0].rates)
        print(f"ratio queries/s, {args.posts:,} / {args.small:,} posts: {ratio:.3f}")
        for runtime in runtimes:
            runtime.close()


if __name__ == "__main__":
    main()
