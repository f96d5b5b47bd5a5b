"""Benchmark: a backlog of cases waiting for triage, triaged in chunks against one case a
transaction.

Usage: PYTHONPATH=. .venv/bin/python bench/triage_backlog.py [--cases 2000] [--rounds 3]
       [--postgres | --database-url URL]

Two fresh databases (SQLite files by default; PostgreSQL with ``--postgres`` (pgserver) or
``--database-url``). Each round stores the same backlog in both: ``--cases`` posts, each reported
by a trusted flagger whose organisation takes webhooks (so every triage queues a notification),
then runs the triage job until nothing waits, on one database with chunks of one case (the
baseline: one transaction and a dozen statements a case, as triage ran before) and on the other
with the job's chunks; the side that goes first alternates. Figures: cases triaged per second of
the job, each side, and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import databases
from sqlalchemy import func, select, update

from tanggap import logs
from tanggap.auth.models import Principal
from tanggap.auth.schemas import Caller
from tanggap.cases.models import Case
from tanggap.config import Settings
from tanggap.db.migrate import upgrade
from tanggap.flaggers.models import FlaggerOrg
from tanggap.review.triage import CHUNK, triage_due
from tanggap.runtime import Runtime, build_runtime
from tests.factories import make_org, make_token, seed_cases

SECRET = "bench-secret-key-that-is-long-enough-0123456789"


def prepare(runtime: Runtime) -> None:
    """A trusted flagger organisation that takes webhooks."""
    make_org(runtime, "Cyber Desk A")
    make_token(runtime, "flagger", "Cyber Desk A")
    with runtime.factory() as session, session.begin():
        session.execute(update(FlaggerOrg).values(webhook_url="https://desk.example/hook"))


def backlog(runtime: Runtime, channel: str, count: int) -> None:
    """Store ``count`` posts of ``channel`` and a flagger's report on each, none triaged."""
    with runtime.factory() as session:
        flagger = session.scalars(select(Principal).where(Principal.role == "flagger")).one()
    caller = Caller(id=flagger.id, role="flagger", name=flagger.name, org_id=flagger.org_id)
    seed_cases(runtime, count, channel=channel, reporter=caller)


def drain(runtime: Runtime, chunk: int) -> float:
    """Triage until nothing waits; return the seconds it took."""
    started = time.perf_counter()
    while triage_due(
        factory=runtime.factory, policy=runtime.policy, notifier=runtime.notifier, chunk=chunk
    ):
        pass
    took = time.perf_counter() - started
    with runtime.factory() as session:
        waiting = session.scalar(select(func.count()).where(Case.triage_due.is_(True)))
    assert waiting == 0, waiting
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    logs.configure("WARNING")
    sides = {"one": 1, "chunks": CHUNK}
    rates: dict[str, list[float]] = {name: [] for name in sides}
    with (
        tempfile.TemporaryDirectory() as tmp,
        databases(
            list(sides), Path(tmp), postgres=args.postgres, server_url=args.database_url
        ) as urls,
    ):
        runtimes = {}
        for name, url in zip(sides, urls, strict=True):
            upgrade(url)
            settings = Settings(env="test", database_url=url, secret_key=SECRET)
            runtimes[name] = build_runtime(settings)
            prepare(runtimes[name])
        print(
            f"database: {'PostgreSQL' if args.postgres or args.database_url else 'SQLite'}; "
            f"{args.rounds} rounds of {args.cases:,} cases; chunks of {CHUNK} against one case"
        )
        for number in range(args.rounds):
            order = list(sides) if number % 2 == 0 else list(reversed(sides))
            for name in order:
                backlog(runtimes[name], f"antrian{number}", args.cases)
            for name in order:
                rates[name].append(args.cases / drain(runtimes[name], sides[name]))
            print(
                f"round {number + 1}: one case a transaction {rates['one'][-1]:,.0f} cases/s; "
                f"chunks {rates['chunks'][-1]:,.0f} cases/s"
            )
        for runtime in runtimes.values():
            runtime.close()
    one, chunks = (statistics.median(rates[name]) for name in sides)
    print(
        f"median: one case a transaction (baseline) {one:,.0f} cases/s; chunks {chunks:,.0f} "
        f"cases/s; ratio {chunks / one:.2f}"
    )


if __name__ == "__main__":
    main()
