"""Crash test, real processes: SIGKILL the API and the workers at random moments while reports
and decisions arrive (a small size; the full size is ``bench/crash.py``)."""

from __future__ import annotations

import pytest

from tanggap.runtime import Runtime
from tests.crash import CrashPlan, run
from tests.factories import Tokens

PLAN = CrashPlan(reports=120, decisions=24, kills=4, seed=11)


def test_killed_processes_lose_no_report_and_double_no_action(
    runtime: Runtime, database_url: str, database_backend: tuple[str, str], tokens: Tokens
) -> None:
    if database_backend[0] != "postgresql":
        pytest.skip("an API and two workers at once need PostgreSQL (SQLite has one writer)")
    outcome = run(runtime, database_url, tokens, PLAN)
    print(
        f"{outcome.seconds:.0f} s, load {outcome.load_seconds:.0f} s, restarts "
        f"{[round(r, 1) for r in outcome.restart_seconds]}, retries {outcome.retries}"
    )
    assert outcome.api_kills + outcome.worker_kills == PLAN.kills
    assert outcome.api_kills and outcome.worker_kills
    assert len(outcome.accepted) == PLAN.reports and outcome.lost == 0
    assert outcome.reports_stored == PLAN.reports and outcome.doubled_reports == 0
    assert len(outcome.decided) >= PLAN.decisions and outcome.doubled_decisions == 0
    assert outcome.actions == len(outcome.decided) == outcome.actions_delivered == outcome.applied
    assert outcome.applied_twice == 0 and outcome.unapplied == 0
    assert outcome.chain_intact and outcome.pending_events == 0
