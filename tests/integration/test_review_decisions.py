"""Escalation to leads, four-eyes channel bans, appeals and the statement of reasons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tanggap.actions.platform import RecordingAdapter
from tanggap.db.base import utcnow
from tanggap.runtime import Runtime
from tests.factories import (
    Tokens,
    bearer,
    decision_body,
    make_reviewer,
    reported_case,
    row_counts,
    run_triage,
)


def claim(client: TestClient, token: str, case_id: str) -> None:
    answer = client.post(f"/v1/cases/{case_id}/claim", headers=bearer(token))
    assert answer.status_code == 200, answer.text


def decide(client: TestClient, token: str, case_id: str, **body: Any) -> Any:
    return client.post(
        f"/v1/cases/{case_id}/decision", json=decision_body(**body), headers=bearer(token)
    )


def page_status(client: TestClient, message_id: int = 1) -> int:
    return client.get(f"/c/beritakita/{message_id}").status_code


def test_an_escalated_case_goes_to_the_leads_only(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    lead = make_reviewer(runtime, "lead@example.org", ("id",), role="lead")
    case_id = reported_case(client, tokens)
    run_triage(runtime)
    claim(client, tokens.reviewer, case_id)
    bad = client.post(
        f"/v1/cases/{case_id}/escalate", json={"reason": ""}, headers=bearer(tokens.reviewer)
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "reason"
    escalated = client.post(
        f"/v1/cases/{case_id}/escalate",
        json={"reason": "Possibly a real bank's campaign; need a lead's call."},
        headers=bearer(tokens.reviewer),
    )
    assert escalated.status_code == 200, escalated.text
    body = escalated.json()
    assert body["lead_only"] and body["escalation_reason"].startswith("Possibly")
    assert body["state"] == "open" and body["claimed_by"] is None
    assert client.post("/v1/cases/next", headers=bearer(tokens.reviewer2)).status_code == 204
    assert client.get(f"/v1/cases/{case_id}", headers=bearer(tokens.reviewer2)).status_code == 404
    taken = client.post("/v1/cases/next", headers=bearer(lead))
    assert taken.status_code == 200 and taken.json()["case_id"] == case_id
    assert decide(client, lead, case_id).status_code == 201


def test_a_channel_ban_needs_a_second_reviewer(client: TestClient, tokens: Tokens) -> None:
    case_id = reported_case(client, tokens)
    claim(client, tokens.reviewer, case_id)
    pending = decide(client, tokens.reviewer, case_id, outcome="ban_channel")
    assert pending.status_code == 201, pending.text
    assert pending.json()["state"] == "pending_approval" and pending.json()["actions"] == []
    assert client.get("/c/beritakita").status_code == 200  # nothing happened yet
    case = client.get(f"/v1/cases/{case_id}", headers=bearer(tokens.reviewer2)).json()
    assert case["state"] == "awaiting_approval"

    own = client.post(
        f"/v1/cases/{case_id}/approval", json={"approve": True}, headers=bearer(tokens.reviewer)
    )
    assert own.status_code == 403 and "four eyes" in own.json()["error"]["message"]
    approved = client.post(
        f"/v1/cases/{case_id}/approval",
        json={"approve": True, "note": "Whole channel runs the scam."},
        headers=bearer(tokens.reviewer2),
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "final" and approved.json()["approved_at"]
    assert [a["state"] for a in approved.json()["actions"]] == ["delivered"]
    assert client.get("/c/beritakita").status_code in (410, 451)
    again = client.post(
        f"/v1/cases/{case_id}/approval", json={"approve": True}, headers=bearer(tokens.admin)
    )
    assert again.status_code == 409


def test_a_rejected_ban_returns_the_case_to_its_queue(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    case_id = reported_case(client, tokens)
    claim(client, tokens.reviewer, case_id)
    decide(client, tokens.reviewer, case_id, outcome="ban_channel")
    rejected = client.post(
        f"/v1/cases/{case_id}/approval",
        json={"approve": False, "note": "Remove the post; the channel is a news outlet."},
        headers=bearer(tokens.reviewer2),
    )
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    assert client.get("/c/beritakita").status_code == 200
    run_triage(runtime)
    case = client.get(f"/v1/cases/{case_id}", headers=bearer(tokens.reviewer)).json()
    assert case["state"] == "open"
    claim(client, tokens.reviewer, case_id)
    assert decide(client, tokens.reviewer, case_id).status_code == 201
    assert page_status(client) in (410, 451)


def test_an_appeal_goes_to_another_reviewer_and_reverse_restores_the_post(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    case_id = reported_case(client, tokens)
    claim(client, tokens.reviewer, case_id)
    assert decide(client, tokens.reviewer, case_id).status_code == 201
    assert page_status(client) == 410

    appeal_body = {"channel": "beritakita", "message_id": 1, "reason": "It was a real giveaway."}
    headers = bearer(tokens.platform, **{"Idempotency-Key": "appeal-1"})
    filed = client.post("/v1/appeals", json=appeal_body, headers=headers)
    assert filed.status_code == 201, filed.text
    appeal = filed.json()
    assert appeal["state"] == "open" and appeal["case_id"] == case_id
    replay = client.post("/v1/appeals", json=appeal_body, headers=headers)
    assert replay.json() == appeal
    twice = client.post("/v1/appeals", json=appeal_body, headers=bearer(tokens.platform))
    assert twice.status_code == 409

    run_triage(runtime)
    # The reviewer who decided may neither be handed nor claim the appeal.
    assert client.post("/v1/cases/next", headers=bearer(tokens.reviewer)).status_code == 204
    own = client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
    assert own.status_code == 403
    taken = client.post("/v1/cases/next", headers=bearer(tokens.reviewer2))
    assert taken.status_code == 200 and taken.json()["case_id"] == case_id
    wrong = decide(client, tokens.reviewer2, case_id, outcome="remove")
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "outcome"
    reversed_ = decide(
        client,
        tokens.reviewer2,
        case_id,
        outcome="reverse",
        ground=None,
        policy_ref=None,
        explanation="The prize draw is run by the channel's owner and is real.",
    )
    assert reversed_.status_code == 201, reversed_.text
    assert [a["kind"] for a in reversed_.json()["actions"]] == ["restore_post"]
    assert page_status(client) == 200
    shown = client.get(f"/v1/appeals/{appeal['appeal_id']}", headers=bearer(tokens.platform))
    assert shown.json()["state"] == "reversed"
    statement = client.get(
        "/v1/posts/beritakita/1/statement", headers=bearer(tokens.platform)
    ).json()
    assert statement["restriction"] == "restriction_lifted"
    assert statement["appeal"]["state"] == "reversed"


def test_an_upheld_appeal_keeps_the_post_down(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    case_id = reported_case(client, tokens)
    claim(client, tokens.reviewer, case_id)
    decide(client, tokens.reviewer, case_id)
    client.post(
        "/v1/appeals",
        json={"channel": "beritakita", "message_id": 1, "reason": "Not a scam."},
        headers=bearer(tokens.platform),
    )
    claim(client, tokens.reviewer2, case_id)
    upheld = decide(
        client,
        tokens.reviewer2,
        case_id,
        outcome="uphold",
        ground=None,
        policy_ref=None,
        explanation="The link asks for banking codes.",
    )
    assert upheld.status_code == 201 and upheld.json()["actions"] == []
    assert page_status(client) == 410
    statement = client.get(
        "/v1/posts/beritakita/1/statement", headers=bearer(tokens.platform)
    ).json()
    assert statement["restriction"] == "removal" and statement["appeal"]["state"] == "upheld"


def test_bad_appeals_are_refused_and_write_nothing(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    reported_case(client, tokens)  # reported, not decided
    before = row_counts(runtime)
    cases = [
        ({"channel": "beritakita", "message_id": 1, "reason": "x"}, 422, "message_id"),
        ({"channel": "beritakita", "message_id": 99, "reason": "x"}, 404, "message_id"),
        ({"channel": "beritakita", "message_id": 1, "reason": ""}, 422, "reason"),
        ({"channel": "beritakita", "message_id": 1}, 422, "reason"),
        ({"channel": "bad handle!", "message_id": 1, "reason": "x"}, 422, "channel"),
    ]
    for body, status, field in cases:
        answer = client.post("/v1/appeals", json=body, headers=bearer(tokens.platform))
        assert answer.status_code == status, (body, answer.text)
        assert answer.json()["error"]["field"] == field
    flagger = client.post(
        "/v1/appeals",
        json={"channel": "beritakita", "message_id": 1, "reason": "x"},
        headers=bearer(tokens.flagger),
    )
    assert flagger.status_code == 403
    assert row_counts(runtime) == before


def test_the_statement_of_reasons_has_the_dsa_fields(client: TestClient, tokens: Tokens) -> None:
    case_id = reported_case(client, tokens)
    missing = client.get("/v1/posts/beritakita/1/statement", headers=bearer(tokens.platform))
    assert missing.status_code == 404
    claim(client, tokens.reviewer, case_id)
    decide(
        client,
        tokens.reviewer,
        case_id,
        outcome="geo_restrict",
        countries=["ID", "MY"],
        ground="law",
        policy_ref="UU ITE Art. 28(1)",
    )
    statement = client.get(
        "/v1/posts/beritakita/1/statement", headers=bearer(tokens.platform)
    ).json()
    assert statement["restriction"] == "geo_restriction"
    assert statement["territorial_scope"] == ["ID", "MY"]
    assert statement["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert statement["legal_ground"] == "UU ITE Art. 28(1)"
    assert statement["source_type"] == "SOURCE_TRUSTED_FLAGGER"
    assert statement["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert statement["automated_detection"] is False
    assert statement["dsa_category"] == "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"
    assert statement["facts_and_circumstances"].startswith("The post offers")
    assert statement["application_date"] and statement["redress"]["internal_complaint_until"]
    forbidden = client.get("/v1/posts/beritakita/1/statement", headers=bearer(tokens.flagger))
    assert forbidden.status_code == 403


def test_a_takedown_still_waiting_when_its_decision_is_reversed_is_never_applied(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    platform = RecordingAdapter(fail_times=1)  # the first attempt does not get through
    runtime.adapter = platform
    case_id = reported_case(client, tokens)
    claim(client, tokens.reviewer, case_id)
    decided = decide(client, tokens.reviewer, case_id)
    assert decided.status_code == 201 and decided.json()["actions"][0]["state"] == "pending"
    (removal,) = decided.json()["actions"]
    appeal_body = {"channel": "beritakita", "message_id": 1, "reason": "It was a real giveaway."}
    assert client.post("/v1/appeals", json=appeal_body, headers=bearer(tokens.platform)).is_success
    run_triage(runtime)
    assert client.post("/v1/cases/next", headers=bearer(tokens.reviewer2)).status_code == 200
    reversed_ = decide(
        client, tokens.reviewer2, case_id, outcome="reverse", ground=None, policy_ref=None,
        explanation="The prize draw is real.",
    )  # fmt: skip
    assert reversed_.status_code == 201, reversed_.text

    runtime.deliver_actions(now=utcnow() + timedelta(hours=2))  # the removal's retry was due
    assert [a.kind for a in platform.applied] == ["restore_post"]  # the removal never went
    shown = client.get("/v1/actions?state=cancelled", headers=bearer(tokens.admin)).json()
    assert [a["action_id"] for a in shown] == [removal["action_id"]]
