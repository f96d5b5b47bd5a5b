"""Benchmark: ingest of text posts with the detection pipeline and the database, on one core.

Usage: PYTHONPATH=. .venv/bin/python bench/ingest_pipeline.py [--posts 5000] [--block 500]
       [--postgres | --database-url URL] [--profile single|batch]

Each post goes through what ``POST /v1/posts`` does minus HTTP: the router's function
(``api.posts.ingest_post``: the post validated into ``PostIn``, ``posts.service.ingest`` with
its audit event, the detection pipeline — language, normalisation, MinHash fingerprint and bands,
rules, classifier, the near-copy check against removed content, the hash banks (none are
configured here, so only their staleness check runs) — the commit, and the delivery of any
automatic action), in its own session and transaction, on a fresh database. Texts: distinct real
tweets and SMS of ../shared/data/*/train.csv; every 50th post is an edited copy of content a
reviewer removed during the set-up, so the re-upload branch runs too.

Baselines in the same run, on the same posts, blocks alternating so that noise hits all alike: the
same ingest into a second database with detection switched off (``NoInspection``), and the text
engines alone without any database. The process is pinned to one core (a PostgreSQL server runs on
the other). ``--database-url`` names a PostgreSQL server where two databases may be created.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import pstats
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common import databases, one_core
from bench.near_dup_corpus import edited
from fastapi import Response
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tanggap import logs
from tanggap.api.posts import ingest_post, ingest_posts
from tanggap.auth import service as auth
from tanggap.auth.schemas import Caller
from tanggap.builtin_pages.models import Restriction
from tanggap.cases.models import Case
from tanggap.config import Settings
from tanggap.db.migrate import upgrade
from tanggap.detection.models import Signal
from tanggap.detectors import classifier
from tanggap.detectors.language import detect_language
from tanggap.detectors.minhash import signature
from tanggap.detectors.normalise import normalise
from tanggap.posts.inspection import Inspection, Screening
from tanggap.posts.models import Post
from tanggap.posts.schemas import PostIn, PostsIn
from tanggap.runtime import Runtime, build_runtime
from tanggap.screening.pipeline import DetectionPipeline
from tanggap.server import create_app
from tests.factories import bearer, decision_body, make_tokens, post_body, report_body

DATA = Path(__file__).parents[2] / "shared" / "data"
SECRET = "bench-secret-key-that-is-long-enough-0123456789"
CHANNELS = 100
WARMUP = 300
REMOVED = 50
REUPLOAD_EVERY = 50
BATCH = 100  # posts per transaction on the batched side
PROFILED = 1000


class NoDetection(DetectionPipeline):
    """The detection pipeline switched off: it looks at nothing."""

    def inspect(self, *, session: Session, post: Post, created: bool) -> Inspection:
        """Do nothing."""
        return Inspection()

    def screen(self, *, session: Session, posts: Sequence[PostIn]) -> list[Screening]:
        """Find nothing."""
        return [Screening(language=None, acts=False) for _ in posts]

    def record(
        self, *, session: Session, stored: Sequence[tuple[int, Screening]]
    ) -> dict[int, tuple[uuid.UUID, ...]]:
        """Store nothing."""
        return {}


def texts(seed: int) -> list[str]:
    """Return the distinct tweets and SMS of the shared training data, shuffled."""
    found: dict[str, None] = {}
    for path, column in (
        (DATA / "id-hate-abusive" / "train.csv", "Tweet"),
        (DATA / "id-sms-fraud" / "train.csv", "Teks"),
    ):
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            found.update((row[column], None) for row in csv.DictReader(handle) if row.get(column))
    distinct = list(found)
    random.Random(seed).shuffle(distinct)
    return distinct


def runtime_for(url: str, detect: bool) -> tuple[Runtime, Caller]:
    """Migrate the database; return a runtime (with or without detection) and a platform caller."""
    upgrade(url)
    runtime = build_runtime(Settings(env="test", database_url=url, secret_key=SECRET))
    if not detect:
        runtime.pipeline = NoDetection(runtime.policy, runtime.notifier, runtime.rules)
    with runtime.factory() as session, session.begin():
        platform = auth.create_principal(session=session, role="platform", name="bench platform")
        caller = Caller(id=platform.id, role="platform", name=platform.name, org_id=None)
    return runtime, caller


def ingest(runtime: Runtime, caller: Caller, body: dict[str, Any]) -> None:
    """Ingest one post as the ``POST /v1/posts`` route does, in its own session."""
    with runtime.factory() as session:
        ingest_post(
            data=PostIn.model_validate(body),
            session=session,
            caller=caller,
            runtime=runtime,
            response=Response(),
        )


def batched(runtime: Runtime, caller: Caller, size: int) -> Callable[[dict[str, Any]], None]:
    """Ingest posts as ``POST /v1/posts/batch`` does, ``size`` per transaction (the block size is
    a multiple of ``size``, so every measured post is stored inside its block)."""
    waiting: list[dict[str, Any]] = []

    def side(body: dict[str, Any]) -> None:
        waiting.append(body)
        if len(waiting) == size:
            with runtime.factory() as session:
                ingest_posts(
                    data=PostsIn.model_validate({"posts": waiting}),
                    session=session,
                    caller=caller,
                    runtime=runtime,
                )
            waiting.clear()

    return side


def remove(runtime: Runtime, bodies: list[dict[str, Any]]) -> int:
    """Have a flagger report each post and a reviewer remove it; return how many were removed."""
    removed = 0
    with TestClient(create_app(runtime=runtime, run_dispatcher=False)) as client:
        tokens = make_tokens(runtime)
        for body in bodies:
            link = f"https://t.me/{body['channel']}/{body['message_id']}"
            receipt = client.post(
                "/v1/reports", json=report_body(link), headers=bearer(tokens.flagger)
            )
            case_id = receipt.json()["case_id"]
            client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
            decided = client.post(
                f"/v1/cases/{case_id}/decision",
                json=decision_body(),
                headers=bearer(tokens.reviewer),
            )
            removed += decided.status_code == 201
    return removed


def text_engines(runtime: Runtime) -> Callable[[dict[str, Any]], None]:
    """Return the pipeline's text engines alone, as it calls them, without a database."""
    model = classifier.packaged()
    assert model is not None

    def inspect(body: dict[str, Any]) -> None:
        language = detect_language(body["text"])
        normalised = normalise(body["text"])
        found = signature(normalised)
        if found is not None:
            found.bands()
            runtime.rules.fresh().match(body["text"], language, normalised)
            model.flagged(body["text"], normalised)

    return inspect


def bodies_of(corpus: list[str], first_message: int, removed: list[str]) -> list[dict[str, Any]]:
    """Return post bodies for ``corpus``; every REUPLOAD_EVERY-th re-uploads removed content."""
    rng = random.Random(first_message)
    found = []
    for n, body in enumerate(corpus):
        if removed and n % REUPLOAD_EVERY == REUPLOAD_EVERY - 1:
            body = edited(rng.choice(removed), rng)
        message_id = first_message + n
        channel = f"kanal{message_id % CHANNELS}"
        found.append(post_body(channel=channel, message_id=message_id, text=body, author_id=n))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--block", type=int, default=500, help="posts per alternating block")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--postgres", action="store_true", help="use a pgserver PostgreSQL")
    parser.add_argument("--database-url", help="a PostgreSQL server to create two databases on")
    parser.add_argument(
        "--profile",
        choices=("single", "batch"),
        help="profile ingest with detection, one post or BATCH posts a transaction",
    )
    args = parser.parse_args()
    logs.configure("WARNING")
    corpus = texts(args.seed)
    assert len(corpus) >= WARMUP + args.posts + PROFILED, "not enough distinct texts"
    warmup = bodies_of(corpus[:WARMUP], 1, [])
    measured = bodies_of(
        corpus[WARMUP : WARMUP + args.posts], 100_000, [b["text"] for b in warmup[:REMOVED]]
    )
    names = ("tanggap_bench_ingest_plain", "tanggap_bench_ingest_full")
    with (
        tempfile.TemporaryDirectory() as tmp,
        databases(names, Path(tmp), postgres=args.postgres, server_url=args.database_url) as urls,
    ):
        plain, plain_caller = runtime_for(urls[0], detect=False)
        full, full_caller = runtime_for(urls[1], detect=True)
        engines = text_engines(full)
        sides: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
            ("text engines only, no database", engines),
            ("ingest, detection off (baseline)", lambda b: ingest(plain, plain_caller, b)),
            ("ingest with detection", lambda b: ingest(full, full_caller, b)),
            (f"same, {BATCH} posts per batch", batched(full, full_caller, BATCH)),
        ]
        removed = []
        for _, side in sides:
            for body in warmup:
                side(body)
        for runtime in (plain, full):
            removed.append(remove(runtime, warmup[:REMOVED]))
        measured_batched = bodies_of(
            corpus[WARMUP : WARMUP + args.posts], 900_000, [b["text"] for b in warmup[:REMOVED]]
        )

        seconds: dict[str, list[float]] = {name: [] for name, _ in sides}
        sizes = []
        with one_core() as core:
            for at in range(0, len(measured), args.block):
                block = measured[at : at + args.block]
                sizes.append(len(block))
                for name, side in sides:
                    # the batched side stores the same texts under other message ids
                    posts = measured_batched[at : at + args.block] if "batch" in name else block
                    started = time.perf_counter()
                    for body in posts:
                        side(body)
                    seconds[name].append(time.perf_counter() - started)
            if args.profile:
                extra = bodies_of(corpus[WARMUP + args.posts :][:PROFILED], 500_000, [])
                side = sides[3 if args.profile == "batch" else 2][1]
                profile(side, extra)

        with full.factory() as session:
            signals = session.execute(select(func.count()).select_from(Signal)).scalar_one()
            cases = session.execute(select(func.count()).select_from(Case)).scalar_one()
            restricted = session.execute(select(func.count()).select_from(Restriction)).scalar_one()
        print(
            f"database: {full.engine.dialect.name}; {len(measured):,} posts"
            f" ({len(measured) // REUPLOAD_EVERY} re-uploads of removed content) in blocks of"
            f" {args.block}, the sides alternating; pinned to core {core}"
        )
        print(
            f"set-up: {WARMUP} warm-up posts per side, {removed[1]} removed through a report and a"
            f" decision; after the run the detecting database holds {signals:,} signals,"
            f" {cases:,} cases, {restricted:,} restrictions"
        )
        print(f"{'side':<34} {'posts/s':>8}  {'block median':>12}  ratio to baseline")
        baseline = len(measured) / sum(seconds[sides[1][0]])
        for name, _ in sides:
            rate = len(measured) / sum(seconds[name])
            blocks = statistics.median(n / s for n, s in zip(sizes, seconds[name], strict=True))
            print(f"{name:<34} {rate:>8,.0f}  {blocks:>12,.0f}  {rate / baseline:.3f}")
        for runtime in (plain, full):
            runtime.close()


def profile(side: Callable[[dict[str, Any]], None], bodies: list[dict[str, Any]]) -> None:
    """Profile one side over ``bodies``; print the top functions two ways."""
    profiler = cProfile.Profile()
    profiler.enable()
    for body in bodies:
        side(body)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
    for order in ("cumulative", "tottime"):
        print(f"--- profile of ingest with detection over {len(bodies)} posts, by {order}")
        stats.sort_stats(order).print_stats(25)


if __name__ == "__main__":
    main()
