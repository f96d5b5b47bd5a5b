"""The direct channel's intake: bulk submission, removal orders, the report list and its clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from tanggap.runtime import Runtime
from tests.factories import REMOVAL_ORDER, Tokens, bearer, post_body, report_body, row_counts


@pytest.fixture
def posted(client: TestClient, tokens: Tokens) -> None:
    for message_id in range(1, 6):
        answer = client.post(
            "/v1/posts", json=post_body(message_id=message_id), headers=bearer(tokens.platform)
        )
        assert answer.status_code == 201


def bulk(client: TestClient, token: str, lines: list[Any], **headers: str) -> Any:
    return client.post(
        "/v1/reports/bulk", json={"reports": lines}, headers=bearer(token, **headers)
    )


@pytest.mark.usefixtures("posted")
def test_every_line_gets_its_fate_in_input_order(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    lines = [
        report_body("https://t.me/beritakita/1"),
        report_body("https://t.me/beritakita/1"),  # same post, same category: the first one
        report_body("https://t.me/beritakita/999"),
        report_body("https://t.me/beritakita/2", category="jaywalking"),
        report_body("https://example.com/x/1"),
        "not an object",
        report_body("t.me/beritakita/3", category="terrorism", **REMOVAL_ORDER),
        {**report_body("t.me/beritakita/4"), "colour": "red"},
    ]
    answer = bulk(client, tokens.flagger, lines)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["index"] for r in results] == list(range(len(lines)))
    assert [r["status"] for r in results] == [
        "accepted", "duplicate", "unknown_post", "invalid", "invalid", "invalid", "accepted",
        "invalid",
    ]  # fmt: skip
    assert results[1]["report_id"] == results[0]["report_id"]
    assert "category" in results[3]["error"] and "target" in results[4]["error"]
    assert "colour" in results[7]["error"]
    assert {"report_id", "case_id", "deadline"} <= set(results[6])
    listed = client.get("/v1/reports", headers=bearer(tokens.flagger)).json()
    assert listed["total"] == 2
    assert row_counts(runtime)["reports"] == 2


@pytest.mark.usefixtures("posted")
def test_a_retried_bulk_with_the_same_key_changes_nothing(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    lines = [report_body(f"t.me/beritakita/{n}") for n in range(1, 6)]
    first = bulk(client, tokens.flagger, lines, **{"Idempotency-Key": "batch-1"})
    before = row_counts(runtime)
    again = bulk(client, tokens.flagger, lines, **{"Idempotency-Key": "batch-1"})
    assert again.json() == first.json()
    assert row_counts(runtime) == before
    # Without the key the same lines are recognised as this organisation's open reports.
    third = bulk(client, tokens.flagger, lines)
    assert {r["status"] for r in third.json()["results"]} == {"duplicate"}
    assert row_counts(runtime)["reports"] == before["reports"]


def test_bulk_limits_and_shapes_are_checked(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    before = row_counts(runtime)
    for body, field in [
        ({"reports": []}, "reports"),
        ({"reports": [report_body()] * 1001}, "reports"),
        ({"reports": "t.me/beritakita/1"}, "reports"),
        ({"lines": []}, "reports"),
    ]:
        answer = client.post("/v1/reports/bulk", json=body, headers=bearer(tokens.flagger))
        assert answer.status_code == 422, body
        assert answer.json()["error"]["field"] == field
    huge = client.post(
        "/v1/reports/bulk",
        content=b'{"reports": ["' + b"x" * (runtime.settings.max_bulk_body_bytes + 1) + b'"]}',
        headers=bearer(tokens.flagger, **{"Content-Type": "application/json"}),
    )
    assert huge.status_code == 413
    assert client.post("/v1/reports/bulk", json={"reports": [report_body()]}).status_code == 401
    assert row_counts(runtime) == before


@pytest.mark.usefixtures("posted")
def test_a_thousand_lines_are_accepted_in_one_request(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    for message_id in range(6, 101):
        client.post(
            "/v1/posts", json=post_body(message_id=message_id), headers=bearer(tokens.platform)
        )
    categories = ["fraud", "drugs", "illegal_gambling", "hate_speech", "disinformation"]
    lines = [
        report_body(f"https://t.me/beritakita/{1 + n % 100}", category=categories[n // 100 % 5])
        for n in range(1000)
    ]
    answer = bulk(client, tokens.flagger, lines)
    statuses = [r["status"] for r in answer.json()["results"]]
    assert len(statuses) == 1000
    assert statuses.count("accepted") == 500 and statuses.count("duplicate") == 500
    assert row_counts(runtime)["reports"] == 500


@pytest.mark.usefixtures("posted")
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"issuing_authority": None}, "issuing_authority"),
        ({"legal_basis": None}, "legal_basis"),
        ({"deadline": "2020-01-01T00:00:00Z"}, "deadline"),
        ({"deadline": "2030-01-01T00:00:00"}, "deadline"),
    ],
)
def test_removal_orders_need_their_authority_and_reference(
    client: TestClient, tokens: Tokens, runtime: Runtime, change: dict[str, Any], field: str
) -> None:
    before = row_counts(runtime)
    body = report_body(category="terrorism", **{**REMOVAL_ORDER, **change})
    answer = client.post("/v1/reports", json=body, headers=bearer(tokens.flagger))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert row_counts(runtime) == before


@pytest.mark.usefixtures("posted")
def test_notices_carry_no_authority_or_deadline(client: TestClient, tokens: Tokens) -> None:
    for extra, field in [
        ({"issuing_authority": "Kementerian"}, "issuing_authority"),
        ({"deadline": "2030-01-01T00:00:00Z"}, "deadline"),
    ]:
        answer = client.post(
            "/v1/reports", json=report_body(**extra), headers=bearer(tokens.flagger)
        )
        assert answer.status_code == 422 and answer.json()["error"]["field"] == field


@pytest.mark.usefixtures("posted")
def test_an_order_can_shorten_the_clock_but_never_lengthen_it(
    client: TestClient, tokens: Tokens
) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=20)
    tight = client.post(
        "/v1/reports",
        json=report_body("t.me/beritakita/1", **REMOVAL_ORDER, deadline=soon.isoformat()),
        headers=bearer(tokens.flagger),
    ).json()
    assert abs(datetime.fromisoformat(tight["deadline"]) - soon) < timedelta(seconds=1)
    loose = client.post(
        "/v1/reports",
        json=report_body(
            "t.me/beritakita/2", **REMOVAL_ORDER, deadline="2030-01-01T00:00:00+07:00"
        ),
        headers=bearer(tokens.flagger),
    ).json()
    shown = client.get(f"/v1/reports/{loose['report_id']}", headers=bearer(tokens.flagger)).json()
    received = datetime.fromisoformat(shown["received_at"])
    assert datetime.fromisoformat(shown["deadline"]) - received == timedelta(hours=1)
    assert shown["issuing_authority"] == REMOVAL_ORDER["issuing_authority"]
    assert 3500 < shown["time_left_seconds"] <= 3600


@pytest.mark.usefixtures("posted")
def test_a_removal_order_after_a_notice_is_its_own_order_with_the_tighter_clock(
    client: TestClient, tokens: Tokens
) -> None:
    notice = client.post(
        "/v1/reports", json=report_body("t.me/beritakita/1"), headers=bearer(tokens.flagger)
    ).json()
    soon = datetime.now(UTC) + timedelta(minutes=30)
    order_body = report_body("t.me/beritakita/1", **REMOVAL_ORDER, deadline=soon.isoformat())
    answer = client.post("/v1/reports", json=order_body, headers=bearer(tokens.flagger))
    assert answer.status_code == 202, answer.text
    order = answer.json()
    assert order["duplicate"] is False and order["report_id"] != notice["report_id"]
    assert order["case_id"] == notice["case_id"]
    shown = client.get(f"/v1/reports/{order['report_id']}", headers=bearer(tokens.flagger)).json()
    assert shown["order_type"] == "removal_order"
    assert shown["issuing_authority"] == REMOVAL_ORDER["issuing_authority"]
    assert shown["legal_basis"] == REMOVAL_ORDER["legal_basis"]
    assert abs(datetime.fromisoformat(shown["deadline"]) - soon) < timedelta(seconds=1)
    case = client.get(f"/v1/cases/{order['case_id']}", headers=bearer(tokens.admin)).json()
    assert abs(datetime.fromisoformat(case["deadline"]) - soon) < timedelta(seconds=1)
    # The same order sent again is its duplicate; a notice after it adds nothing either.
    again = client.post("/v1/reports", json=order_body, headers=bearer(tokens.flagger))
    assert again.status_code == 200 and again.json()["report_id"] == order["report_id"]
    later = client.post(
        "/v1/reports", json=report_body("t.me/beritakita/1"), headers=bearer(tokens.flagger)
    )
    assert later.status_code == 200 and later.json()["duplicate"] is True
    # Another authority's order on the same post is another order.
    other = {**order_body, "issuing_authority": "Another authority (test)"}
    third = client.post("/v1/reports", json=other, headers=bearer(tokens.flagger))
    assert third.status_code == 202 and third.json()["duplicate"] is False


@pytest.mark.usefixtures("posted")
def test_the_list_shows_only_the_callers_organisation_with_filters(
    client: TestClient, tokens: Tokens
) -> None:
    bulk(client, tokens.flagger, [report_body(f"t.me/beritakita/{n}") for n in (1, 2, 3)])
    bulk(client, tokens.flagger_other_org, [report_body("t.me/beritakita/4")])
    mine = client.get("/v1/reports", headers=bearer(tokens.flagger)).json()
    theirs = client.get("/v1/reports", headers=bearer(tokens.flagger_other_org)).json()
    assert mine["total"] == 3 and theirs["total"] == 1
    assert {r["report_id"] for r in mine["reports"]}.isdisjoint(
        {r["report_id"] for r in theirs["reports"]}
    )
    assert client.get("/v1/reports", headers=bearer(tokens.reviewer)).json()["total"] == 4
    assert client.get("/v1/reports", headers=bearer(tokens.platform)).json()["total"] == 0
    received = client.get("/v1/reports?status=received", headers=bearer(tokens.flagger)).json()
    assert received["total"] == 3
    none = client.get("/v1/reports?status=actioned", headers=bearer(tokens.flagger)).json()
    assert none["total"] == 0
    later = client.get(
        "/v1/reports", params={"since": "2099-01-01T00:00:00Z"}, headers=bearer(tokens.flagger)
    ).json()
    assert later["total"] == 0
    page = client.get("/v1/reports?limit=2&offset=2", headers=bearer(tokens.flagger)).json()
    assert len(page["reports"]) == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=lost", "status"),
        ("since=yesterday", "since"),
        ("since=2026-01-01T00:00:00", "since"),
        ("limit=0", "limit"),
    ],
)
def test_list_filters_are_checked(
    client: TestClient, tokens: Tokens, query: str, field: str
) -> None:
    answer = client.get(f"/v1/reports?{query}", headers=bearer(tokens.flagger))
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == field


def test_a_batch_takes_as_many_statements_for_sixty_lines_as_for_six(
    client: TestClient, tokens: Tokens, runtime: Runtime, database_backend: tuple[str, str]
) -> None:
    """The lines of a batch are read and written together, webhooks included: statements do not
    grow with the lines (they did: a dozen round trips a line, then one query a line for the
    organisation's webhook; then one insert an audit event on SQLite)."""
    org = client.post(
        "/v1/flaggers",
        json={"name": "Bulk Desk", "country": "ID", "webhook_url": "https://desk.example/hook"},
        headers=bearer(tokens.admin),
    ).json()
    token = client.post(f"/v1/flaggers/{org['org_id']}/tokens", headers=bearer(tokens.admin))
    desk = token.json()["token"]
    for message_id in range(1, 131):
        client.post(
            "/v1/posts", json=post_body(message_id=message_id), headers=bearer(tokens.platform)
        )
    statements: list[str] = []

    # The wake-ups leave after the commit from the process's own sender, in their own time.
    apart = ("SELECT pg_notify",)

    def counted(lines: list[Any]) -> int:
        statements.clear()
        answer = bulk(client, desk, lines)
        assert answer.status_code == 200, answer.text
        assert {r["status"] for r in answer.json()["results"]} == {"accepted", "duplicate"}
        return sum(1 for sql in statements if not sql.startswith(apart))

    def note(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    six = [report_body(f"t.me/beritakita/{n}") for n in range(1, 6)] + [
        report_body("t.me/beritakita/1")  # a duplicate of the first line
    ]
    sixty = [report_body(f"t.me/beritakita/{n}") for n in range(11, 70)] + [
        report_body("t.me/beritakita/11")
    ]
    event.listen(runtime.engine, "before_cursor_execute", note)
    try:
        few, many = counted(six), counted(sixty)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", note)
    assert many == few
    with runtime.engine.connect() as conn:
        queued = conn.execute(
            text("SELECT COUNT(*) FROM notifications WHERE event = 'report.received'")
        ).scalar_one()
    assert queued == 5 + 59  # one webhook for each accepted line, none for a duplicate
