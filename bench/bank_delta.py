"""Benchmark: a bank index taking one new entry by delta, against building it in full, at the
same size, in the same run.

Usage: PYTHONPATH=. .venv/bin/python bench/bank_delta.py [--entries 1000000] [--rounds 3]
       [--deltas 300] [--postgres | --database-url URL]

A database migrated to head gets one bank of ``--entries`` seeded random PDQ hashes (bulk
loaded). Two ``BankMatcher``s stand for two processes over it. The baseline, a full build: a new
matcher's first lookup (the entries read from the database, the index built), as every process
did after any change before indexes followed deltas. Then one entry is added through the
database in a transaction of its own, as another process would, and the warm matcher's next
lookup takes it (the heads query, the new row, the index's ``add``) and must find it at distance
0. A plain lookup with nothing new is timed too, so the delta's own cost shows. Memory: the peak
that ``tracemalloc`` saw during each (numpy's arrays included), measured in separate passes so
that tracing does not slow the timed ones. ``--deltas`` single-entry deltas in a row give the
median and worst cost, tails sealed into segments and segments merged included. Pinned to one core.
The 10 M size: ``--entries 10000000`` (about 4 GB of memory for each full build).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from bench.common import databases, one_core
from bench.near_dup_corpus import loading_engine
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from tanggap import logs
from tanggap.banks import service as banks
from tanggap.banks.matcher import BankMatcher
from tanggap.banks.models import Bank, BankEntry
from tanggap.banks.schemas import EntryIn
from tanggap.config import Settings
from tanggap.db.base import utcnow
from tanggap.db.migrate import upgrade
from tanggap.detectors.pdq_index import PdqIndex
from tanggap.runtime import build_runtime

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
CHUNK = 50_000


@dataclass(frozen=True)
class Media:
    pdq: str
    md5: str | None = None
    sha256: str | None = None


def to_hex(words: np.ndarray) -> list[str]:
    """Write (n, 4) big-endian words as 64-digit hashes."""
    text = words.astype(">u8").tobytes().hex()
    return [text[i : i + 64] for i in range(0, len(text), 64)]


def fill(url: str, entries: int, rng: np.random.Generator) -> uuid.UUID:
    """Create one bank and bulk-load ``entries`` random PDQ hashes into it."""
    engine = loading_engine(url)
    bank_id = uuid.uuid4()
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(Bank),
            [
                {
                    "id": bank_id,
                    "name": "bench",
                    "category": "terrorism",
                    "policy": "review",
                    "countries": [],
                    "pdq_threshold": 31,
                    "created_at": now,
                }
            ],
        )
    for start in range(0, entries, CHUNK):
        size = min(CHUNK, entries - start)
        words = rng.integers(0, 2**64, size=(size, 4), dtype=np.uint64, endpoint=False)
        with engine.begin() as conn:
            conn.execute(
                insert(BankEntry),
                [
                    {"bank_id": bank_id, "kind": "pdq", "value": h, "created_at": now}
                    for h in to_hex(words)
                ],
            )
    engine.dispose()
    return bank_id


def lookup(factory: sessionmaker[Session], matcher: BankMatcher, pdq: str) -> int:
    """Look one hash up as detection does; return the smallest distance found (-1 if none)."""
    with factory() as session, session.begin():
        found = matcher.match(session=session, media=[Media(pdq=pdq)])[0]
    return min((m.distance for m in found), default=-1)


def add_one(factory: sessionmaker[Session], bank_id: uuid.UUID, pdq: str) -> None:
    """Add one entry in a transaction of its own, as another process would."""
    with factory() as session, session.begin():
        bank = session.get(Bank, bank_id)
        assert bank is not None
        banks.add_entries(
            session=session, bank=bank, entries=[EntryIn(kind="pdq", value=pdq)], actor="bench"
        )


def timed(action: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def traced(action: Callable[[], object]) -> int:
    """Return the peak of memory allocated while ``action`` ran."""
    gc.collect()
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run(url: str, args: argparse.Namespace) -> None:
    rng = np.random.default_rng(20261203)
    upgrade(url)
    started = time.perf_counter()
    bank_id = fill(url, args.entries, rng)
    print(f"loaded {args.entries:,} entries in {time.perf_counter() - started:.1f} s")
    runtime = build_runtime(Settings(env="test", database_url=url, secret_key=SECRET))
    factory = runtime.factory
    PdqIndex.build([("0" * 64, 0)] * 4096)  # load numba's compiled kernels once, outside timing
    probe = to_hex(rng.integers(0, 2**64, size=(1, 4), dtype=np.uint64))[0]

    def new_hash() -> str:
        return to_hex(rng.integers(0, 2**64, size=(1, 4), dtype=np.uint64))[0]

    full_s, full_mem, delta_s, delta_mem, plain_s = [], [], [], [], []
    warm = BankMatcher()
    lookup(factory, warm, probe)
    for _ in range(args.rounds):
        full_s.append(timed(lambda: lookup(factory, BankMatcher(), probe)))
        plain_s.append(timed(lambda: lookup(factory, warm, probe)))
        added = new_hash()
        add_one(factory, bank_id, added)
        delta_s.append(timed(lambda h=added: assert_found(lookup(factory, warm, h))))
    for _ in range(args.rounds):
        full_mem.append(traced(lambda: lookup(factory, BankMatcher(), probe)))
        added = new_hash()
        add_one(factory, bank_id, added)
        delta_mem.append(traced(lambda h=added: assert_found(lookup(factory, warm, h))))
    series = []
    for _ in range(args.deltas):
        added = new_hash()
        add_one(factory, bank_id, added)
        series.append(timed(lambda h=added: assert_found(lookup(factory, warm, h))))
    assert warm.rebuilds == 1, warm.rebuilds
    with factory() as session, session.begin():
        index = warm._pdq(session).index  # the shape the deltas left the index in

    full, delta, plain = (statistics.median(x) for x in (full_s, delta_s, plain_s))
    fm, dm = statistics.median(full_mem), statistics.median(delta_mem)
    database = runtime.engine.dialect.name
    print(f"entries: {args.entries:,}; rounds: {args.rounds}; database: {database}")
    print(f"full build (first lookup of a new matcher): {full:.3f} s, peak {fm / 2**20:,.1f} MiB")
    print(f"delta of one entry (lookup taking it): {delta * 1e3:.2f} ms, peak {dm / 1024:,.1f} KiB")
    print(f"plain lookup, nothing new: {plain * 1e3:.2f} ms")
    print(f"ratio full/delta: time {full / delta:,.0f}x, memory {fm / max(dm, 1):,.0f}x")
    print(
        f"{args.deltas} deltas in a row: median {statistics.median(series) * 1e3:.2f} ms, "
        f"p99 {np.percentile(series, 99) * 1e3:.2f} ms, max {max(series) * 1e3:.2f} ms; "
        f"index now {len(index):,} hashes in {index.segments} segments; "
        f"rebuilds {warm.rebuilds}, deltas {warm.deltas}"
    )
    runtime.close()


def assert_found(distance: int) -> None:
    assert distance == 0, f"the entry just added was not matched ({distance})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--deltas", type=int, default=300)
    parser.add_argument("--postgres", action="store_true", help="use a pgserver PostgreSQL")
    parser.add_argument("--database-url", help="a PostgreSQL server to create a database on")
    args = parser.parse_args()
    logs.configure("WARNING")
    with (
        tempfile.TemporaryDirectory() as root,
        one_core(),
        databases(
            ["bank_delta"], Path(root), postgres=args.postgres, server_url=args.database_url
        ) as (url,),
    ):
        run(url, args)


if __name__ == "__main__":
    main()
