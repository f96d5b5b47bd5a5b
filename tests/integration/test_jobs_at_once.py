"""Two processes running the same background job at the same moment never do one unit of work
twice (on SQLite the single writer takes them in turn; on PostgreSQL they run side by side)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tanggap.audit.models import AuditEvent
from tanggap.cases.models import Case
from tanggap.db.base import utcnow
from tanggap.detection.models import ScanJob, Signal
from tanggap.jobs import scan_round
from tanggap.review.deadlines import watch_deadlines
from tanggap.runtime import Runtime
from tests.factories import Tokens, bearer, post_body, run_triage, seed_cases
from tests.integration.test_banks import PROPAGANDA, make_bank

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


def queue_text_scan(client: TestClient, tokens: Tokens, posts: int) -> None:
    """Store ``posts`` edited copies of a text, then add the text to a bank: a scan is queued."""
    for message_id in range(1, posts + 1):
        body = post_body(message_id=message_id, text=f"{PROPAGANDA} nomor {message_id}")
        answer = client.post("/v1/posts", json=body, headers=bearer(tokens.platform))
        assert answer.status_code == 201, answer.text
    make_bank(client, tokens, "review")
    added = client.post(
        "/v1/banks/bank-review/entries", json={"texts": [PROPAGANDA]}, headers=bearer(tokens.admin)
    )
    assert added.status_code == 200 and added.json()["scan_id"], added.text


def test_two_scan_rounds_at_once_match_each_stored_post_once(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    queue_text_scan(client, tokens, 8)
    scanned = 0
    while counts := [n for n in at_once(lambda: scan_round(runtime), lambda: scan_round(runtime))]:
        if not any(counts):
            break
        scanned += sum(counts)
    with runtime.factory() as session:
        job = session.execute(select(ScanJob)).scalar_one()
        signals = session.execute(
            select(func.count()).select_from(Signal).where(Signal.kind == "hash_match")
        ).scalar_one()
    assert (scanned, job.scanned, job.matched, signals) == (8, 8, 8, 8)


def test_a_scan_batch_another_process_runs_is_left_to_it(
    client: TestClient, tokens: Tokens, runtime: Runtime, database_backend: tuple[str, str]
) -> None:
    if database_backend[0] == "sqlite":
        pytest.skip("SQLite has one writer: a second process waits for the whole transaction")
    queue_text_scan(client, tokens, 3)
    with runtime.engine.connect() as other, ThreadPoolExecutor(1) as pool:
        running = other.begin()  # another worker, in the middle of a batch of this scan
        other.execute(select(ScanJob.id).with_for_update())
        assert pool.submit(scan_round, runtime).result(timeout=20) == 0
        running.rollback()
    assert scan_round(runtime) == 3
