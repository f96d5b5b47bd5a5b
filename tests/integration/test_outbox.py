"""The action outbox: a platform that fails gets retries with back-off; nothing is applied twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from tanggap import jobs
from tanggap.actions.platform import PlatformAction, RecordingAdapter
from tanggap.builtin_pages.adapter import BuiltinPagesAdapter
from tanggap.builtin_pages.models import Restriction
from tanggap.db.base import utcnow
from tanggap.outbox import backoff
from tanggap.runtime import Runtime
from tests.factories import Tokens, bearer, decision_body, post_body, report_body


@pytest.fixture
def decided(client: TestClient, tokens: Tokens, runtime: Runtime) -> dict[str, Any]:
    """A removal decided while the platform refuses every call (twice)."""
    runtime.adapter = RecordingAdapter(fail_times=2)
    client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    receipt = client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger)).json()
    client.post(f"/v1/cases/{receipt['case_id']}/claim", headers=bearer(tokens.reviewer))
    decision = client.post(
        f"/v1/cases/{receipt['case_id']}/decision",
        json=decision_body(),
        headers=bearer(tokens.reviewer),
    )
    assert decision.status_code == 201
    return {**receipt, "decision": decision.json()}


def deliver(runtime: Runtime, *, later: timedelta = timedelta(0)) -> int:
    return runtime.deliver_actions(now=utcnow() + later)


def action_row(runtime: Runtime) -> Any:
    with runtime.engine.connect() as conn:
        return conn.execute(
            text("SELECT state, attempts, last_error, next_attempt_at FROM actions")
        ).one()


def report_status(client: TestClient, tokens: Tokens, report_id: str) -> str:
    answer = client.get(f"/v1/reports/{report_id}", headers=bearer(tokens.flagger))
    return str(answer.json()["status"])


def test_a_failing_platform_is_retried_until_the_action_lands_once(
    client: TestClient, tokens: Tokens, runtime: Runtime, decided: dict[str, Any]
) -> None:
    [action] = decided["decision"]["actions"]
    assert action["state"] == "pending" and action["attempts"] == 1
    state, attempts, error, _ = action_row(runtime)
    assert (state, attempts) == ("pending", 1) and "platform unavailable" in error
    # The flagger is not told "actioned" while the post is still up.
    assert report_status(client, tokens, decided["report_id"]) == "in_review"

    assert deliver(runtime) == 0  # not due yet: the back-off holds it
    assert deliver(runtime, later=timedelta(hours=2)) == 0  # second failure
    assert deliver(runtime, later=timedelta(hours=4)) == 1
    assert deliver(runtime, later=timedelta(hours=8)) == 0  # nothing left
    state, attempts, error, _ = action_row(runtime)
    assert (state, attempts, error) == ("delivered", 3, None)
    adapter = runtime.adapter
    assert isinstance(adapter, RecordingAdapter)
    assert [a.kind for a in adapter.applied] == ["remove_post"]
    assert adapter.applied[0].idempotency_key == action["action_id"]
    assert report_status(client, tokens, decided["report_id"]) == "actioned"


def test_an_action_gives_up_after_the_last_attempt(
    client: TestClient, tokens: Tokens, runtime: Runtime, decided: dict[str, Any]
) -> None:
    runtime.adapter = RecordingAdapter(fail_times=100)
    runtime.settings.action_max_attempts = 3
    for hours in (2, 4, 8):
        deliver(runtime, later=timedelta(hours=hours))
    state, attempts, _, _ = action_row(runtime)
    assert (state, attempts) == ("failed", 3)
    with runtime.engine.connect() as conn:
        logged = list(conn.execute(text("SELECT action FROM audit_events")).scalars())
    assert logged.count("action.retry_scheduled") == 2 and logged.count("action.failed") == 1


def test_the_dispatcher_delivers_what_is_due(runtime: Runtime, decided: dict[str, Any]) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(text("UPDATE actions SET next_attempt_at = :now"), {"now": "2000-01-01"})
    dispatcher = jobs.action_dispatcher(runtime)
    assert dispatcher.run_once() == 0  # the platform fails once more
    with runtime.engine.begin() as conn:
        conn.execute(text("UPDATE actions SET next_attempt_at = :now"), {"now": "2000-01-01"})
    assert dispatcher.run_once() == 1
    assert action_row(runtime)[0] == "delivered"


def test_the_builtin_pages_apply_each_key_once_even_across_crashes(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    adapter = BuiltinPagesAdapter(runtime.factory)
    action = PlatformAction(
        idempotency_key="action-1", kind="remove_post", channel="beritakita", message_id=1
    )
    # The first delivery applies, then the process dies before the outbox row is marked.
    adapter.apply(action)
    for _ in range(2):  # redelivered after the crash, and once more
        adapter.apply(action)
    with runtime.factory() as session:
        assert session.execute(select(func.count()).select_from(Restriction)).scalar_one() == 1


def test_restore_lifts_the_restrictions(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    adapter = BuiltinPagesAdapter(runtime.factory)
    adapter.apply(PlatformAction("a1", "remove_post", "beritakita", 1, policy_name="Fraud"))
    assert client.get("/c/beritakita/1").status_code == 410
    adapter.apply(PlatformAction("a2", "restore_post", "beritakita", 1))
    assert client.get("/c/beritakita/1").status_code == 200


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n, 5).total_seconds() for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff(30, 5) == timedelta(hours=1)


def test_failed_actions_are_listed_and_requeued_by_an_admin(
    client: TestClient, tokens: Tokens, runtime: Runtime, decided: dict[str, Any]
) -> None:
    runtime.adapter = RecordingAdapter(fail_times=100)
    runtime.settings.action_max_attempts = 2
    deliver(runtime, later=timedelta(hours=2))
    failed = client.get("/v1/actions?state=failed", headers=bearer(tokens.admin)).json()
    assert [a["action_id"] for a in failed] == [decided["decision"]["actions"][0]["action_id"]]
    assert "platform unavailable" in failed[0]["last_error"]
    assert client.get("/v1/actions", headers=bearer(tokens.reviewer)).status_code == 403

    action_id = failed[0]["action_id"]
    runtime.adapter = RecordingAdapter()
    retried = client.post(f"/v1/actions/{action_id}/retry", headers=bearer(tokens.admin))
    assert retried.status_code == 200 and retried.json()["state"] == "pending"
    assert deliver(runtime) == 1
    assert report_status(client, tokens, decided["report_id"]) == "actioned"
    again = client.post(f"/v1/actions/{action_id}/retry", headers=bearer(tokens.admin))
    assert again.status_code == 409
    ghost = client.post(
        "/v1/actions/00000000-0000-4000-8000-000000000000/retry", headers=bearer(tokens.admin)
    )
    assert ghost.status_code == 404
