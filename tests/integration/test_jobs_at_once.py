"""Two processes running the same background job at the same moment never do one unit of work
twice (on SQLite the single writer takes them in turn; on PostgreSQL they run side by side)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import select, update

from tanggap.audit.models import AuditEvent
from tanggap.cases.models import Case
from tanggap.db.base import utcnow
from tanggap.review.deadlines import watch_deadlines
from tanggap.runtime import Runtime
from tests.factories import run_triage, seed_cases

Result = TypeVar("Result")


def at_once(*rounds: Callable[[], Result]) -> list[Result]:
    """Run ``rounds`` in threads released together; return their results."""
    start = threading.Barrier(len(rounds))

    def run(job: Callable[[], Result]) -> Result:
        start.wait()
        return job()

    with ThreadPoolExecutor(len(rounds)) as pool:
        return list(pool.map(run, rounds))


def audited(runtime: Runtime, action: str) -> Counter[str]:
    """Count the audit events ``action`` per subject."""
    with runtime.factory() as session:
        subjects = session.execute(
            select(AuditEvent.subject_id).where(AuditEvent.action == action)
        ).scalars()
        return Counter(subjects)


def test_two_triage_rounds_at_once_share_the_cases_and_triage_each_once(
    runtime: Runtime,
) -> None:
    case_ids = seed_cases(runtime, 60)
    counts = at_once(lambda: run_triage(runtime), lambda: run_triage(runtime))
    assert sum(counts) == len(case_ids)
    assert audited(runtime, "case.triaged") == dict.fromkeys(case_ids, 1)
    assert run_triage(runtime) == 0


def test_two_deadline_watches_at_once_escalate_and_record_each_breach_once(
    runtime: Runtime,
) -> None:
    case_ids = seed_cases(runtime, 30)
    run_triage(runtime)
    past = utcnow() - timedelta(minutes=1)
    with runtime.factory() as session, session.begin():
        session.execute(update(Case).values(near_at=past, deadline=past))

    def watch() -> int:
        return watch_deadlines(factory=runtime.factory, notifier=runtime.notifier).total

    counts = at_once(watch, watch)
    assert sum(counts) == 2 * len(case_ids)  # each case escalated once and breached once
    assert audited(runtime, "case.escalated") == dict.fromkeys(case_ids, 1)
    assert audited(runtime, "case.deadline_breached") == dict.fromkeys(case_ids, 1)
    assert watch() == 0
