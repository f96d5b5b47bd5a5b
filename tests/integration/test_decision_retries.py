"""Case writes under an ``Idempotency-Key``: a retry after a lost answer gets the first answer."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tanggap.actions.platform import RecordingAdapter
from tanggap.config import Settings
from tanggap.runtime import Runtime
from tests.conftest import TEST_SECRET
from tests.factories import Tokens, bearer, decision_body, reported_case, row_counts

REPLAYED = "Idempotent-Replayed"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The test settings, with a failed delivery due again at once (a replay would resend it)."""
    return Settings(
        env="test", database_url=database_url, secret_key=TEST_SECRET, action_retry_seconds=1e-6
    )


def claimed_case(client: TestClient | httpx.Client, tokens: Tokens, message_id: int = 1) -> str:
    """Ingest a post, report it and let the first reviewer claim its case; return the case id."""
    case_id = reported_case(client, tokens, message_id)
    claimed = client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
    assert claimed.status_code == 200, claimed.text
    return case_id


def keyed(token: str, key: str) -> dict[str, str]:
    return bearer(token, **{"Idempotency-Key": key})


def outbox_row(client: TestClient, tokens: Tokens, action_id: str) -> dict[str, Any]:
    """The action outbox's row for ``action_id``, as an admin reads it."""
    listed = client.get("/v1/actions", headers=bearer(tokens.admin))
    assert listed.status_code == 200, listed.text
    (row,) = [a for a in listed.json() if a["action_id"] == action_id]
    return dict(row)


def test_a_decision_retried_after_a_lost_answer_gets_the_first_answer(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    case_id = claimed_case(client, tokens)
    url = f"/v1/cases/{case_id}/decision"
    first = client.post(url, json=decision_body(), headers=keyed(tokens.reviewer, "decide-1"))
    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers
    assert [a["state"] for a in first.json()["actions"]] == ["pending"]  # as committed
    assert client.get("/c/beritakita/1").status_code == 410  # delivered after the commit
    written = row_counts(runtime)

    again = client.post(url, json=decision_body(), headers=keyed(tokens.reviewer, "decide-1"))
    assert again.status_code == 201, again.text
    assert again.headers[REPLAYED] == "true"
    assert again.json() == first.json()
    assert row_counts(runtime) == written  # no second decision, action or audit event
    assert written["decisions"] == 1 and written["actions"] == 1

    unkeyed = client.post(url, json=decision_body(), headers=bearer(tokens.reviewer))
    assert unkeyed.status_code == 409  # without a key, the case has moved on


def test_a_replay_does_not_deliver_the_actions_again(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    platform = RecordingAdapter(fail_times=1)
    runtime.adapter = platform
    case_id = claimed_case(client, tokens)
    url = f"/v1/cases/{case_id}/decision"
    first = client.post(url, json=decision_body(), headers=keyed(tokens.reviewer, "decide-2"))
    assert first.status_code == 201, first.text
    action_id = first.json()["actions"][0]["action_id"]
    failed_once = outbox_row(client, tokens, action_id)
    assert failed_once["attempts"] == 1 and failed_once["state"] == "pending"

    again = client.post(url, json=decision_body(), headers=keyed(tokens.reviewer, "decide-2"))
    assert again.headers[REPLAYED] == "true"
    # Due again already, yet only the outbox's next round may send it: the replay did not.
    assert outbox_row(client, tokens, action_id)["attempts"] == 1
    assert platform.applied == []


def test_a_key_sent_with_another_body_or_case_is_refused_and_a_refusal_is_not_kept(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    case_id = claimed_case(client, tokens)
    other_case = claimed_case(client, tokens, message_id=2)
    headers = keyed(tokens.reviewer, "decide-3")
    not_held = client.post(
        f"/v1/cases/{case_id}/decision", json=decision_body(), headers=keyed(tokens.reviewer2, "k")
    )
    assert not_held.status_code == 409
    assert (
        client.post(
            f"/v1/cases/{case_id}/decision", json=decision_body(), headers=headers
        ).status_code
        == 201
    )
    written = row_counts(runtime)

    for url, body in (
        (f"/v1/cases/{case_id}/decision", decision_body("no_violation")),
        (f"/v1/cases/{other_case}/decision", decision_body()),
    ):
        refused = client.post(url, json=body, headers=headers)
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "idempotency_key_reused"
        assert error["field"] == "Idempotency-Key"
    assert row_counts(runtime) == written

    # The refused attempt under "k" stored nothing: the key works once the case is held.
    claimed = client.post(f"/v1/cases/{other_case}/claim", headers=bearer(tokens.reviewer2))
    assert claimed.status_code == 409  # held by the first reviewer
    decided = client.post(
        f"/v1/cases/{other_case}/decision",
        json=decision_body(),
        headers=keyed(tokens.reviewer, "k"),
    )
    assert decided.status_code == 201 and REPLAYED not in decided.headers


def test_an_approval_retried_gets_the_first_answer(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    case_id = claimed_case(client, tokens)
    pending = client.post(
        f"/v1/cases/{case_id}/decision",
        json=decision_body(outcome="ban_channel"),
        headers=bearer(tokens.reviewer),
    )
    assert pending.status_code == 201, pending.text
    url = f"/v1/cases/{case_id}/approval"
    approval = {"approve": True, "note": "The whole channel runs the scam."}
    first = client.post(url, json=approval, headers=keyed(tokens.reviewer2, "approve-1"))
    assert first.status_code == 200, first.text
    assert first.json()["state"] == "final"
    written = row_counts(runtime)

    again = client.post(url, json=approval, headers=keyed(tokens.reviewer2, "approve-1"))
    assert again.status_code == 200 and again.headers[REPLAYED] == "true"
    assert again.json() == first.json()
    assert row_counts(runtime) == written
    assert client.post(url, json=approval, headers=bearer(tokens.reviewer2)).status_code == 409


def test_an_escalation_retried_gets_the_first_answer_though_the_case_left_its_reviewer(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    case_id = claimed_case(client, tokens)
    url = f"/v1/cases/{case_id}/escalate"
    reason = {"reason": "Possibly a real bank's campaign; need a lead's call."}
    first = client.post(url, json=reason, headers=keyed(tokens.reviewer, "escalate-1"))
    assert first.status_code == 200, first.text
    assert first.json()["lead_only"] and first.json()["claimed_by"] is None
    written = row_counts(runtime)

    again = client.post(url, json=reason, headers=keyed(tokens.reviewer, "escalate-1"))
    assert again.status_code == 200 and again.headers[REPLAYED] == "true"
    assert again.json() == first.json()
    assert row_counts(runtime) == written
    assert client.post(url, json=reason, headers=bearer(tokens.reviewer)).status_code == 404


def test_twin_decisions_sent_at_once_with_one_key_make_one_decision(
    live_server: str, tokens: Tokens, runtime: Runtime
) -> None:
    with httpx.Client(base_url=live_server, timeout=60) as client:
        case_id = claimed_case(client, tokens)
    start = Barrier(2)

    def decide(_: int) -> tuple[int, dict[str, Any], bool]:
        with httpx.Client(base_url=live_server, timeout=60) as client:
            start.wait()
            answer = client.post(
                f"/v1/cases/{case_id}/decision",
                json=decision_body(),
                headers=keyed(tokens.reviewer, "twin-1"),
            )
            return answer.status_code, answer.json(), REPLAYED in answer.headers

    with ThreadPoolExecutor(max_workers=2) as pool:
        (status_a, body_a, replayed_a), (status_b, body_b, replayed_b) = pool.map(decide, range(2))
    assert (status_a, status_b) == (201, 201), (body_a, body_b)
    assert body_a == body_b
    assert sorted([replayed_a, replayed_b]) == [False, True]
    counts = row_counts(runtime)
    assert counts["decisions"] == 1 and counts["actions"] == 1
    assert counts["idempotency_records"] == 1
