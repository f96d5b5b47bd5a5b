"""POST /v1/reports and GET /v1/reports/{id}: intake, deadlines, cases, visibility, refusals."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tanggap.audit.chain import canonical_json
from tanggap.reports.schemas import ReportIn
from tanggap.runtime import Runtime
from tests.factories import REMOVAL_ORDER, Tokens, bearer, post_body, report_body, row_counts


@pytest.fixture
def posted(client: TestClient, tokens: Tokens) -> None:
    for message_id in (1, 2):
        answer = client.post(
            "/v1/posts", json=post_body(message_id=message_id), headers=bearer(tokens.platform)
        )
        assert answer.status_code == 201


def hours_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)) / timedelta(hours=1)


@pytest.mark.usefixtures("posted")
def test_a_flagger_report_is_accepted_with_its_deadline(client: TestClient, tokens: Tokens) -> None:
    answer = client.post(
        "/v1/reports",
        json=report_body(category="drugs", note="jual sabu", legal_basis="UU 35/2009"),
        headers=bearer(tokens.flagger),
    )
    assert answer.status_code == 202, answer.text
    receipt = answer.json()
    assert set(receipt) == {"report_id", "case_id", "status", "deadline", "duplicate"}
    assert receipt["status"] == "received" and receipt["duplicate"] is False
    shown = client.get(f"/v1/reports/{receipt['report_id']}", headers=bearer(tokens.flagger)).json()
    assert shown["deadline"] == receipt["deadline"]
    assert hours_between(shown["received_at"], shown["deadline"]) == pytest.approx(4)
    assert shown["target"] == {
        "channel": "beritakita",
        "message_id": 1,
        "url": "https://t.me/beritakita/1",
    }
    assert shown["legal_basis"] == "UU 35/2009"


@pytest.mark.usefixtures("posted")
def test_removal_orders_run_on_the_one_hour_clock(client: TestClient, tokens: Tokens) -> None:
    receipt = client.post(
        "/v1/reports",
        json=report_body(category="terrorism", **REMOVAL_ORDER),
        headers=bearer(tokens.flagger),
    ).json()
    shown = client.get(f"/v1/reports/{receipt['report_id']}", headers=bearer(tokens.flagger)).json()
    assert hours_between(shown["received_at"], shown["deadline"]) == pytest.approx(1)


@pytest.mark.usefixtures("posted")
def test_user_reports_forwarded_by_the_platform_get_the_user_clock(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    receipt = client.post(
        "/v1/reports",
        json=report_body(category="fraud", reporter_id=55501),
        headers=bearer(tokens.platform),
    ).json()
    shown = client.get(
        f"/v1/reports/{receipt['report_id']}", headers=bearer(tokens.platform)
    ).json()
    assert hours_between(shown["received_at"], shown["deadline"]) == pytest.approx(72)
    with runtime.engine.connect() as conn:
        ref = conn.execute(text("SELECT reporter_ref FROM reports")).scalar_one()
    assert ref is not None and "55501" not in ref


@pytest.mark.usefixtures("posted")
@pytest.mark.parametrize(
    "target",
    [
        "https://t.me/beritakita/2",
        "t.me/beritakita/2",
        "telegram.me/BeritaKita/2",
        {"channel": "beritakita", "message_id": 2},
    ],
)
def test_every_target_form_reaches_the_post(
    client: TestClient, tokens: Tokens, target: Any
) -> None:
    answer = client.post(
        "/v1/reports", json=report_body(target=target), headers=bearer(tokens.flagger)
    )
    assert answer.status_code == 202
    report_id = answer.json()["report_id"]
    shown = client.get(f"/v1/reports/{report_id}", headers=bearer(tokens.flagger)).json()
    assert shown["target"]["message_id"] == 2


@pytest.mark.usefixtures("posted")
def test_reports_on_one_post_join_one_case_with_the_earliest_deadline(
    client: TestClient, tokens: Tokens
) -> None:
    user = client.post(
        "/v1/reports", json=report_body(category="fraud"), headers=bearer(tokens.platform)
    ).json()
    flagger = client.post(
        "/v1/reports", json=report_body(category="terrorism"), headers=bearer(tokens.flagger)
    ).json()
    other = client.post(
        "/v1/reports", json=report_body(target="t.me/beritakita/2"), headers=bearer(tokens.flagger)
    ).json()
    assert user["case_id"] == flagger["case_id"] != other["case_id"]
    case = client.get(f"/v1/cases/{user['case_id']}", headers=bearer(tokens.reviewer)).json()
    assert case["report_count"] == 2
    assert case["deadline"] == flagger["deadline"]
    assert case["category"] == "terrorism"  # the more severe category leads the case
    assert case["queue"] == "id:terrorism"


@pytest.mark.usefixtures("posted")
def test_the_same_organisation_reporting_twice_gets_its_open_report_back(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    first = client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger))
    before = row_counts(runtime)
    second = client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger))
    assert second.status_code == 200
    assert second.json()["report_id"] == first.json()["report_id"]
    assert second.json()["duplicate"] is True
    assert row_counts(runtime) == before
    other_org = client.post(
        "/v1/reports", json=report_body(), headers=bearer(tokens.flagger_other_org)
    )
    assert other_org.status_code == 202 and other_org.json()["duplicate"] is False


@pytest.mark.usefixtures("posted")
def test_idempotency_key_replays_the_first_answer(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    headers = bearer(tokens.flagger, **{"Idempotency-Key": "req-2026-0001"})
    first = client.post("/v1/reports", json=report_body(), headers=headers)
    before = row_counts(runtime)
    again = client.post("/v1/reports", json=report_body(), headers=headers)
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers["idempotent-replayed"] == "true"
    assert row_counts(runtime) == before
    changed = client.post("/v1/reports", json=report_body(note="lain"), headers=headers)
    assert changed.status_code == 422
    assert changed.json()["error"]["field"] == "Idempotency-Key"
    assert row_counts(runtime) == before


@pytest.mark.usefixtures("posted")
@pytest.mark.parametrize(
    ("body", "headers", "field", "code"),
    [
        (report_body(category="jaywalking"), {}, "category", "invalid_input"),
        (report_body(target="https://example.com/x/1"), {}, "target", "invalid_input"),
        (report_body(target="https://t.me/c/123/4"), {}, "target", "invalid_input"),
        (report_body(target="https://t.me/beritakita"), {}, "target", "invalid_input"),
        (report_body(target="https://t.me/beritakita/999"), {}, "target", "unknown_post"),
        (report_body(target="https://t.me/nobodyhere/1"), {}, "target", "unknown_post"),
        (report_body(target={"channel": "beritakita"}), {}, "target.message_id", "invalid_input"),
        (report_body(target=42), {}, "target", "invalid_input"),
        (report_body(order_type="urgent"), {}, "order_type", "invalid_input"),
        (report_body(note="x" * 2001), {}, "note", "invalid_input"),
        (report_body(colour="red"), {}, "colour", "invalid_input"),
        (report_body(reporter_id="u1"), {}, "reporter_id", "invalid_input"),
        ({"category": "fraud"}, {}, "target", "invalid_input"),
        (report_body(), {"Idempotency-Key": "k" * 300}, "Idempotency-Key", "invalid_input"),
        (report_body(note="a\x00b"), {}, "note", "invalid_input"),
        (report_body(legal_basis="UU\x00"), {}, "legal_basis", "invalid_input"),
    ],
)
def test_bad_reports_are_refused_naming_the_field_and_change_nothing(
    client: TestClient,
    tokens: Tokens,
    runtime: Runtime,
    body: dict[str, Any],
    headers: dict[str, str],
    field: str,
    code: str,
) -> None:
    before = row_counts(runtime)
    answer = client.post("/v1/reports", json=body, headers=bearer(tokens.flagger, **headers))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert answer.json()["error"]["code"] == code
    assert row_counts(runtime) == before


@pytest.mark.usefixtures("posted")
def test_only_flaggers_send_removal_orders(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    before = row_counts(runtime)
    answer = client.post(
        "/v1/reports",
        json=report_body(**REMOVAL_ORDER),
        headers=bearer(tokens.platform),
    )
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "order_type"
    assert row_counts(runtime) == before


@pytest.mark.usefixtures("posted")
def test_reviewers_do_not_submit_reports(client: TestClient, tokens: Tokens) -> None:
    answer = client.post("/v1/reports", json=report_body(), headers=bearer(tokens.reviewer))
    assert answer.status_code == 403


def test_not_json_and_oversized_bodies_are_refused(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    before = row_counts(runtime)
    headers = bearer(tokens.flagger, **{"Content-Type": "application/json"})
    broken = client.post("/v1/reports", content=b'{"target": ', headers=headers)
    assert broken.status_code == 422 and broken.json()["error"]["field"] == "body"
    huge = client.post(
        "/v1/reports",
        content=b'{"note": "' + b"x" * (runtime.settings.max_body_bytes + 1) + b'"}',
        headers=headers,
    )
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "too_large"
    assert row_counts(runtime) == before


@pytest.mark.usefixtures("posted")
def test_a_report_is_visible_only_to_its_organisation_and_staff(
    client: TestClient, tokens: Tokens
) -> None:
    mine = client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger)).json()
    url = f"/v1/reports/{mine['report_id']}"
    assert client.get(url, headers=bearer(tokens.flagger)).status_code == 200
    assert client.get(url, headers=bearer(tokens.reviewer)).status_code == 200
    assert client.get(url, headers=bearer(tokens.admin)).status_code == 200
    for outsider in (tokens.flagger_other_org, tokens.platform):
        hidden = client.get(url, headers=bearer(outsider))
        assert hidden.status_code == 404
        assert hidden.json()["error"]["code"] == "not_found"
    missing = client.get(
        "/v1/reports/00000000-0000-4000-8000-000000000000", headers=bearer(tokens.flagger)
    )
    assert missing.status_code == 404
    malformed = client.get("/v1/reports/not-a-uuid", headers=bearer(tokens.flagger))
    assert malformed.status_code == 422 and malformed.json()["error"]["field"] == "report_id"


@pytest.mark.usefixtures("posted")
def test_what_a_flagger_sees_is_an_allow_list(client: TestClient, tokens: Tokens) -> None:
    mine = client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger)).json()
    shown = client.get(f"/v1/reports/{mine['report_id']}", headers=bearer(tokens.flagger)).json()
    assert set(shown) == {
        "report_id", "case_id", "status", "category", "order_type", "legal_basis",
        "issuing_authority", "note", "target", "received_at", "deadline", "time_left_seconds",
        "decided_at", "time_to_action_seconds", "within_deadline", "objection",
        "unread_messages", "outcome", "countries", "ground", "policy_ref", "explanation",
    }  # fmt: skip
    assert "author_ref" not in str(shown) and "reporter" not in str(shown)


@pytest.mark.usefixtures("posted")
@pytest.mark.parametrize("reporter_id", [True, 1.5, {}, "", "x" * 129])
def test_a_bad_reporter_id_is_named(
    client: TestClient, tokens: Tokens, runtime: Runtime, reporter_id: Any
) -> None:
    before = row_counts(runtime)
    answer = client.post(
        "/v1/reports", json=report_body(reporter_id=reporter_id), headers=bearer(tokens.platform)
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "reporter_id"
    assert row_counts(runtime) == before


@pytest.mark.usefixtures("posted")
def test_stored_request_fingerprints_cannot_be_reversed_to_a_user_id(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    body = report_body(reporter_id=12345)
    headers = bearer(tokens.platform, **{"Idempotency-Key": "u-1"})
    assert client.post("/v1/reports", json=body, headers=headers).status_code == 202
    with runtime.engine.connect() as conn:
        stored = conn.execute(text("SELECT request_hash FROM idempotency_records")).scalar_one()
    # Someone holding the table but not the secret key tries every id: no match.
    for guess in range(12340, 12350):
        payload = ReportIn(**report_body(reporter_id=guess)).model_dump(mode="json")
        assert hashlib.sha256(canonical_json(payload).encode()).hexdigest() != stored
