"""Metrics right with several processes: gauges read from the database at each scrape (the same
from every process), counters summed over processes in multiprocess mode."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from tanggap.actions.models import Action
from tanggap.actions.platform import RecordingAdapter
from tanggap.audit import service as audit
from tanggap.db.base import utcnow
from tanggap.gauges import DatabaseGauges
from tanggap.heartbeats.service import Heartbeats
from tanggap.jobs import Dispatcher
from tanggap.metrics import exposition
from tanggap.notify.models import Notification
from tanggap.outbox import DeliveryState
from tanggap.runtime import Runtime
from tests.factories import Tokens, bearer, decision_body, post_body, report_body, run_triage


def gauges(runtime: Runtime, now: datetime) -> dict[tuple[str, tuple[str, ...]], float]:
    """Read the database gauges as a scrape at ``now`` would: (name, label values) -> value."""
    text = exposition([DatabaseGauges(runtime.factory, clock=lambda: now)]).decode()
    return {
        (sample.name, tuple(sample.labels.values())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith(
            ("tanggap_outbox", "tanggap_triage", "tanggap_job", "tanggap_d", "tanggap_audit")
        )
    }


def test_the_outbox_backlog_counts_the_rows_due_and_the_longest_wait(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    runtime.adapter = RecordingAdapter(fail_times=1)  # the platform refuses the first call
    client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    receipt = client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger)).json()
    client.post(f"/v1/cases/{receipt['case_id']}/claim", headers=bearer(tokens.reviewer))
    decided = client.post(
        f"/v1/cases/{receipt['case_id']}/decision",
        json=decision_body(),
        headers=bearer(tokens.reviewer),
    )
    assert decided.status_code == 201
    with runtime.factory() as session:
        retry_at = session.execute(select(Action.next_attempt_at)).scalar_one()
    with runtime.factory() as session, session.begin():
        for due_in, state in ((-10, "pending"), (3600, "pending"), (-20, "delivered")):
            session.add(
                Notification(
                    event="report.updated",
                    body="{}",
                    state=DeliveryState(state),
                    next_attempt_at=retry_at + timedelta(seconds=due_in),
                )
            )

    # Before its retry time the failed action waits: not due.
    before = gauges(runtime, retry_at - timedelta(seconds=1))
    assert before[("tanggap_outbox_due", ("actions",))] == 0
    assert before[("tanggap_outbox_oldest_due_seconds", ("actions",))] == 0
    assert before[("tanggap_outbox_due", ("webhooks",))] == 1
    assert before[("tanggap_outbox_oldest_due_seconds", ("webhooks",))] == 9

    later = retry_at + timedelta(seconds=30)
    found = gauges(runtime, later)
    assert found[("tanggap_outbox_due", ("actions",))] == 1
    assert found[("tanggap_outbox_oldest_due_seconds", ("actions",))] == 30
    assert found[("tanggap_outbox_oldest_due_seconds", ("webhooks",))] == 40
    assert found[("tanggap_database_gauges_ok", ())] == 1

    assert runtime.deliver_actions(now=later) == 1
    assert gauges(runtime, later)[("tanggap_outbox_due", ("actions",))] == 0


def test_the_triage_lag_is_the_wait_of_the_oldest_untriaged_case(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    assert gauges(runtime, utcnow())[("tanggap_triage_oldest_waiting_seconds", ())] == 0
    client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    start = utcnow()
    client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger))
    end = utcnow()
    lag = gauges(runtime, end + timedelta(seconds=60))[
        ("tanggap_triage_oldest_waiting_seconds", ())
    ]
    assert 60 <= lag <= 60 + (end - start).total_seconds() + 0.1
    assert run_triage(runtime) == 1
    assert gauges(runtime, end)[("tanggap_triage_oldest_waiting_seconds", ())] == 0


def test_job_liveness_is_the_time_since_the_last_good_round_in_any_process(
    runtime: Runtime,
) -> None:
    t0 = datetime(2026, 12, 3, 3, 0, tzinfo=utcnow().tzinfo)
    clock = [t0]
    here = Heartbeats(runtime.factory, process="host-a:1", clock=lambda: clock[0])
    there = Heartbeats(runtime.factory, process="host-b:2", clock=lambda: clock[0])

    def broken() -> int:
        raise RuntimeError("database restarting")

    Dispatcher("triage", lambda: 3, 1.0, heartbeat=here).run_once()
    clock[0] = t0 + timedelta(seconds=20)
    Dispatcher("triage", lambda: 0, 1.0, heartbeat=there).run_once()
    with pytest.raises(RuntimeError):
        Dispatcher("scans", broken, 1.0, heartbeat=here).run_once()

    found = gauges(runtime, t0 + timedelta(seconds=32))
    assert found[("tanggap_job_seconds_since_ok", ("triage",))] == 12  # host-b's round
    assert found[("tanggap_job_seconds_since_ok", ("scans",))] == math.inf

    clock[0] = t0 + timedelta(seconds=30)
    Dispatcher("scans", lambda: 1, 1.0, heartbeat=here).run_once()  # ok after failed: written
    with pytest.raises(RuntimeError):
        Dispatcher("scans", broken, 1.0, heartbeat=here).run_once()
    assert (
        gauges(runtime, t0 + timedelta(seconds=32))[("tanggap_job_seconds_since_ok", ("scans",))]
        == 2
    )


def test_the_sealer_lag_is_the_wait_of_the_oldest_unsealed_event(runtime: Runtime) -> None:
    at = utcnow()
    with runtime.factory() as session, session.begin():
        for n in range(3):
            audit.record(
                session=session,
                actor="test",
                action="test.tick",
                subject_type="t",
                subject_id=n,
                occurred_at=at - timedelta(seconds=30 - n),
            )
    waiting = gauges(runtime, at)
    assert waiting[("tanggap_audit_unsealed_events", ())] == 3
    assert waiting[("tanggap_audit_sealer_lag_seconds", ())] == pytest.approx(30)
    assert waiting[("tanggap_audit_checkpoint_age_seconds", ())] == math.inf
    runtime.seal_audit()
    sealed = gauges(runtime, utcnow() + timedelta(seconds=5))
    assert sealed[("tanggap_audit_unsealed_events", ())] == 0
    assert sealed[("tanggap_audit_sealer_lag_seconds", ())] == 0
    assert 5 <= sealed[("tanggap_audit_checkpoint_age_seconds", ())] < 60


def test_metrics_serves_the_gauges_and_answers_without_the_database(
    client: TestClient, tokens: Tokens, tmp_path: Path
) -> None:
    scraped = client.get("/metrics", headers=bearer(tokens.admin))
    assert scraped.status_code == 200
    for line in (
        'tanggap_outbox_due{outbox="actions"} 0.0',
        'tanggap_outbox_due{outbox="webhooks"} 0.0',
        "tanggap_triage_oldest_waiting_seconds 0.0",
        "tanggap_database_gauges_ok 1.0",
    ):
        assert line in scraped.text
    missing = create_engine(f"sqlite:///file:{tmp_path / 'missing.db'}?mode=ro&uri=true")
    text = exposition([DatabaseGauges(sessionmaker(bind=missing))]).decode()
    assert "tanggap_database_gauges_ok 0.0" in text and "tanggap_reports_received" in text
    assert "tanggap_outbox_due" not in text


COUNT = "from tanggap import metrics; metrics.DECISIONS.labels('remove').inc({n})"
SCRAPE = "import sys; from tanggap import metrics; sys.stdout.write(metrics.exposition().decode())"


def test_counters_are_summed_over_processes_in_multiprocess_mode(tmp_path: Path) -> None:
    def python(code: str, **env: str) -> str:
        environment = {**os.environ, **env}
        environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
        environment.update(env)
        done = subprocess.run(
            [sys.executable, "-c", code], env=environment, capture_output=True, text=True,
            timeout=120, check=True,
        )  # fmt: skip
        return done.stdout

    shared = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    python(COUNT.format(n=2), **shared)
    python(COUNT.format(n=3), **shared)
    assert 'tanggap_decisions_total{outcome="remove"} 5.0' in python(SCRAPE, **shared)
    # Without the folder each process answers for itself: nothing counted in this one.
    assert 'tanggap_decisions_total{outcome="remove"}' not in python(SCRAPE)
