"""Benchmark: the transparency report over a year of N cases, on SQLite or PostgreSQL.

Usage: PYTHONPATH=.:src .venv/bin/python bench/transparency.py [--cases 100000] [--postgres]

Fills a fresh database with N cases on N posts, one report each (a tenth removal orders, a third
from users, the rest from trusted flaggers), nine in ten decided (a tenth of those by detection,
with a signal), one in a hundred appealed, spread over a year; then times the whole report over
that year (``transparency.report.build``, all of its aggregate queries) against, as the baseline
in the same run, one ``COUNT(*)`` of the reports received in the year.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import databases
from sqlalchemy import func, insert, select

from tanggap import logs
from tanggap.appeals.models import Appeal
from tanggap.auth import service as auth
from tanggap.cases.models import Case, Decision
from tanggap.channels.models import Channel
from tanggap.config import Settings
from tanggap.db.base import table_of
from tanggap.db.migrate import upgrade
from tanggap.detection.models import Signal
from tanggap.flaggers import service as flaggers
from tanggap.flaggers.schemas import FlaggerOrgIn
from tanggap.posts.models import Post
from tanggap.reports.models import Report
from tanggap.runtime import Runtime, build_runtime
from tanggap.transparency import report
from tanggap.transparency.period import Period

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR = Period(since=START, until=START + timedelta(days=365))
BATCH = 10_000
DAY = timedelta(hours=24)
CATEGORIES = ("terrorism", "fraud", "illegal_gambling", "hate_speech", "drugs", "other")


def fill(runtime: Runtime, cases: int) -> None:
    """Write ``cases`` cases with their posts, reports, decisions, signals and appeals."""
    with runtime.factory() as session, session.begin():
        platform = auth.create_principal(session=session, role="platform", name="bench")
        orgs = [
            flaggers.create(session=session, data=FlaggerOrgIn(name=f"Desk {c}", country=c)).id
            for c in ("ID", "MY", "DE")
        ]
        session.add(Channel(id=1, handle="benchchannel"))
    step = timedelta(days=365) / cases
    for first in range(0, cases, BATCH):
        rows: dict[type, list[dict[str, object]]] = {
            Post: [], Case: [], Decision: [], Report: [], Signal: [], Appeal: []
        }  # fmt: skip
        for n in range(first, min(first + BATCH, cases)):
            at = START + n * step
            category = CATEGORIES[n % len(CATEGORIES)]
            automated = n % 10 == 9
            source = "user" if n % 3 == 0 else "flagger"
            order = "removal_order" if n % 10 == 1 else "notice"
            decided = at + timedelta(minutes=5 + n % 600) if n % 10 != 0 else None
            outcome = "no_violation" if n % 7 == 0 else "remove"
            case_id, decision_id = uuid.uuid4(), uuid.uuid4()
            rows[Post].append(
                {"id": n + 1, "channel_id": 1, "message_id": n + 1, "text": "t",
                 "posted_at": at, "author_ref": f"a{n % 997}"}
            )  # fmt: skip
            rows[Case].append(
                {"id": case_id, "post_id": n + 1, "state": "decided" if decided else "open",
                 "category": category, "queue": f"id:{category}", "deadline": at + DAY,
                 "near_at": at, "rank_at": at, "automated": automated, "opened_at": at,
                 "decided_at": decided, "report_count": 1}
            )  # fmt: skip
            if decided:
                rows[Decision].append(
                    {"id": decision_id, "case_id": case_id, "outcome": outcome,
                     "category": category, "explanation": "e", "automated": automated,
                     "decided_at": decided, "state": "final"}
                )  # fmt: skip
            if automated:
                rows[Signal].append(
                    {"post_id": n + 1, "kind": "rule", "source": "rule:x", "score": 0.9,
                     "created_at": at}
                )  # fmt: skip
            else:
                org = orgs[n % 3] if source == "flagger" or order != "notice" else None
                status = (
                    "received" if not decided else
                    "declined" if outcome == "no_violation" else "actioned"
                )  # fmt: skip
                rows[Report].append(
                    {"id": uuid.uuid4(), "case_id": case_id, "post_id": n + 1,
                     "source": source if order == "notice" else "flagger", "category": category,
                     "order_type": order, "flagger_org_id": org,
                     "submitted_by_id": platform.id, "status": status, "received_at": at,
                     "deadline": at + DAY, "decided_at": decided,
                     "decision_id": decision_id if decided else None}
                )  # fmt: skip
            if decided and n % 100 == 3:
                rows[Appeal].append(
                    {"id": uuid.uuid4(), "case_id": case_id, "appealed_decision_id": decision_id,
                     "reason": "r", "filed_by_id": platform.id, "state": "upheld",
                     "filed_at": decided, "deadline": decided + timedelta(hours=72),
                     "decided_at": decided + timedelta(hours=1)}
                )  # fmt: skip
        with runtime.factory() as session, session.begin():
            for model, batch in rows.items():
                session.execute(insert(table_of(model)), batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    logs.configure("WARNING")
    with (
        tempfile.TemporaryDirectory() as tmp,
        databases(["transparency"], Path(tmp), postgres=args.postgres) as (url,),
    ):
        upgrade(url)
        runtime = build_runtime(Settings(env="test", database_url=url, secret_key=SECRET))
        started = time.perf_counter()
        fill(runtime, args.cases)
        print(f"filled {args.cases:,} cases in {time.perf_counter() - started:.0f} s")
        if args.postgres:
            with runtime.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
        full, count = [], []
        for _ in range(args.rounds):
            with runtime.factory() as session:
                started = time.perf_counter()
                found = report.build(session=session, policy=runtime.policy, period=YEAR)
                full.append(time.perf_counter() - started)
                started = time.perf_counter()
                session.execute(
                    select(func.count()).where(Report.received_at >= YEAR.since)
                ).scalar_one()
                count.append(time.perf_counter() - started)
        print(f"notices {found.notices.received:,}, orders {found.orders_to_act.received:,}, "
              f"own-initiative {found.own_initiative.cases:,}, "
              f"appeals {found.complaints.received:,}")  # fmt: skip
        report_s, count_s = statistics.median(full), statistics.median(count)
        print(f"report: median {report_s:.2f} s ({', '.join(f'{s:.2f}' for s in full)}); "
              f"one COUNT(*): {count_s:.3f} s; ratio {report_s / count_s:.0f}")  # fmt: skip
        runtime.close()


if __name__ == "__main__":
    main()
