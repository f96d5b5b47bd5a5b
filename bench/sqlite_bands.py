"""Benchmark: the cost of a post's LSH band rows on SQLite as the stored posts grow.

Usage: PYTHONPATH=. .venv/bin/python bench/sqlite_bands.py [--posts 60000] [--block 5000]

A fresh, migrated SQLite file (WAL, ``synchronous=FULL``, as ``make run`` has it). Blocks of posts
are written as batch ingest writes its quiet posts, 100 to a transaction: the posts under ids taken
first, their fingerprints and their 16 band rows each, through ``db.base`` (real MinHash
signatures of distinct texts, computed before the clock starts). Per block, the CPU time per post of
the whole write and of the band rows alone (the same transactions again without them, on a second
file); baseline: the first block. The band keys are hashes, so each batch inserts its 1,600 rows at
random places of the ``(band, key)`` index, which outgrows SQLite's page cache as posts are stored.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.ingest_pipeline import texts

from tanggap import logs
from tanggap.channels.models import Channel
from tanggap.config import Settings
from tanggap.db.base import insert_new_rows, insert_rows
from tanggap.db.migrate import upgrade
from tanggap.detection.models import PostFingerprint
from tanggap.detection.service import store_fingerprints
from tanggap.detectors.minhash import Signature, signature
from tanggap.detectors.normalise import normalise
from tanggap.posts.models import Post
from tanggap.runtime import Runtime, build_runtime

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
BATCH = 100


def runtime_at(path: Path) -> tuple[Runtime, int]:
    url = f"sqlite:///{path}"
    upgrade(url)
    runtime = build_runtime(Settings(env="test", database_url=url, secret_key=SECRET))
    with runtime.factory() as session, session.begin():
        channel = Channel(handle="kanal")
        session.add(channel)
        session.flush()
        return runtime, channel.id


def write(runtime: Runtime, channel: int, first: int, found: list[Signature], bands: bool) -> None:
    """Write one batch as batch ingest writes quiet posts (without their audit events)."""
    now = datetime.now(UTC)
    rows = [
        {
            "channel_id": channel,
            "message_id": first + n,
            "text": "",
            "posted_at": now,
            "author_ref": "bench",
            "ingested_at": now,
            "updated_at": now,
        }
        for n in range(len(found))
    ]
    with runtime.factory() as session, session.begin():
        ids = insert_new_rows(session, Post, rows)
        pairs = list(zip(ids, found, strict=True))
        if bands:  # as detection stores them: the fingerprints, then the band rows
            store_fingerprints(session=session, found=pairs)
        else:
            prints = [{"post_id": i, "minhash": s.hex()} for i, s in pairs]
            insert_rows(session, PostFingerprint, prints)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=60_000)
    parser.add_argument("--block", type=int, default=5_000)
    args = parser.parse_args()
    logs.configure("WARNING")
    corpus = texts(20261203)
    found = []
    for n in range(args.posts):  # distinct texts: the corpus again with a number in front
        made = signature(normalise(f"{n} {corpus[n % len(corpus)]}"))
        assert made is not None
        made.bands()
        found.append(made)
    with tempfile.TemporaryDirectory() as tmp:
        with_bands, channel = runtime_at(Path(tmp) / "bands.db")
        without, other = runtime_at(Path(tmp) / "plain.db")
        print(
            f"{'posts stored':>12}  {'write, ms/post':>14}  {'bands alone':>11}  ratio to block 1"
        )
        first_block = None
        for start in range(0, args.posts, args.block):
            spent = {}
            for name, runtime, into, bands in (
                ("with", with_bands, channel, True),
                ("without", without, other, False),
            ):
                began = time.process_time()
                for at in range(start, start + args.block, BATCH):
                    write(runtime, into, at, found[at : at + BATCH], bands)
                spent[name] = 1000 * (time.process_time() - began) / args.block
            band_ms = spent["with"] - spent["without"]
            first_block = first_block or band_ms
            print(
                f"{start + args.block:>12,}  {spent['with']:>14.3f}  {band_ms:>11.3f}"
                f"  {band_ms / first_block:.2f}"
            )
        with_bands.close()
        without.close()


if __name__ == "__main__":
    main()
