"""The two-way thread, the platform's objection, organisations' figures, admin endpoints."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tanggap.reports.models import Report
from tanggap.runtime import Runtime
from tests.factories import Tokens, bearer, decision_body, post_body, report_body, row_counts


@pytest.fixture
def reported(client: TestClient, tokens: Tokens) -> dict[str, Any]:
    for message_id in (1, 2):
        client.post(
            "/v1/posts", json=post_body(message_id=message_id), headers=bearer(tokens.platform)
        )
    answer = client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger))
    assert answer.status_code == 202
    return dict(answer.json())


def thread(client: TestClient, token: str, report_id: str) -> list[dict[str, Any]]:
    answer = client.get(f"/v1/reports/{report_id}/messages", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return list(answer.json()["messages"])


def write(client: TestClient, token: str, report_id: str, body: str) -> Any:
    return client.post(
        f"/v1/reports/{report_id}/messages", json={"body": body}, headers=bearer(token)
    )


def test_both_sides_write_and_read_with_roles_not_names(
    client: TestClient, tokens: Tokens, reported: dict[str, Any]
) -> None:
    report_id = reported["report_id"]
    assert write(client, tokens.flagger, report_id, "Mohon segera ditindak.").status_code == 201
    reply = write(client, tokens.reviewer, report_id, "Sedang kami tinjau.")
    assert reply.status_code == 201
    assert reply.json()["author_role"] == "platform"
    assert set(reply.json()) == {
        "message_id", "author_role", "kind", "body", "created_at", "read_by_flagger_at",
        "read_by_platform_at",
    }  # fmt: skip
    status = client.get(f"/v1/reports/{report_id}", headers=bearer(tokens.flagger)).json()
    assert status["unread_messages"] == 1
    seen = thread(client, tokens.flagger, report_id)
    assert [(m["author_role"], m["body"]) for m in seen] == [
        ("flagger", "Mohon segera ditindak."),
        ("platform", "Sedang kami tinjau."),
    ]
    assert seen[1]["read_by_flagger_at"] is not None
    status = client.get(f"/v1/reports/{report_id}", headers=bearer(tokens.flagger)).json()
    assert status["unread_messages"] == 0
    assert "reviewer" not in str(seen)


def test_threads_are_private_to_the_organisation_and_staff(
    client: TestClient, tokens: Tokens, reported: dict[str, Any], runtime: Runtime
) -> None:
    report_id = reported["report_id"]
    before = row_counts(runtime)
    for outsider in (tokens.flagger_other_org,):
        assert write(client, outsider, report_id, "hello").status_code == 404
        assert (
            client.get(f"/v1/reports/{report_id}/messages", headers=bearer(outsider)).status_code
            == 404
        )
    assert write(client, tokens.platform, report_id, "hello").status_code == 403
    for bad, field in [({"body": ""}, "body"), ({"body": "x" * 5001}, "body"), ({}, "body")]:
        answer = client.post(
            f"/v1/reports/{report_id}/messages", json=bad, headers=bearer(tokens.flagger)
        )
        assert answer.status_code == 422 and answer.json()["error"]["field"] == field
    assert row_counts(runtime) == before


def test_every_message_is_audited(
    client: TestClient, tokens: Tokens, reported: dict[str, Any], runtime: Runtime
) -> None:
    write(client, tokens.flagger, reported["report_id"], "satu")
    write(client, tokens.reviewer, reported["report_id"], "dua")
    thread(client, tokens.flagger, reported["report_id"])
    with runtime.engine.connect() as conn:
        logged = list(
            conn.execute(
                text("SELECT action FROM audit_events WHERE action LIKE 'thread.%' ORDER BY seq")
            ).scalars()
        )
    assert logged == ["thread.message", "thread.message", "thread.read"]


def test_an_objection_takes_the_case_out_of_the_queue_until_the_flagger_answers(
    client: TestClient, tokens: Tokens, reported: dict[str, Any]
) -> None:
    case_id, report_id = reported["case_id"], reported["report_id"]
    reason = "Konten ini adalah liputan berita, bukan penipuan; mohon tinjau ulang."
    unclaimed = client.post(
        f"/v1/cases/{case_id}/objection",
        json={"report_id": report_id, "reason": reason},
        headers=bearer(tokens.reviewer),
    )
    assert unclaimed.status_code == 409
    client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
    objected = client.post(
        f"/v1/cases/{case_id}/objection",
        json={"report_id": report_id, "reason": reason},
        headers=bearer(tokens.reviewer),
    )
    assert objected.status_code == 201 and objected.json()["kind"] == "objection"
    shown = client.get(f"/v1/reports/{report_id}", headers=bearer(tokens.flagger)).json()
    assert shown["status"] == "objected" and shown["objection"] == reason
    queue = client.get("/v1/cases", headers=bearer(tokens.reviewer)).json()
    assert case_id not in {c["case_id"] for c in queue["cases"]}

    write(client, tokens.flagger, report_id, "Kami lampirkan bukti tambahan: ...")
    shown = client.get(f"/v1/reports/{report_id}", headers=bearer(tokens.flagger)).json()
    assert shown["status"] == "in_review" and shown["deadline"] == reported["deadline"]
    case = client.get(f"/v1/cases/{case_id}", headers=bearer(tokens.reviewer)).json()
    assert case["state"] == "open" and case["deadline"] == reported["deadline"]


def test_objections_are_checked(
    client: TestClient, tokens: Tokens, reported: dict[str, Any], runtime: Runtime
) -> None:
    case_id = reported["case_id"]
    client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
    before = row_counts(runtime)
    for body, field in [
        ({"report_id": reported["report_id"], "reason": "short"}, "reason"),
        ({"report_id": "00000000-0000-4000-8000-000000000000", "reason": "x" * 20}, "report_id"),
        ({"reason": "x" * 20}, "report_id"),
    ]:
        answer = client.post(
            f"/v1/cases/{case_id}/objection", json=body, headers=bearer(tokens.reviewer)
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["field"] == field
    assert (
        client.post(
            f"/v1/cases/{case_id}/objection",
            json={"report_id": reported["report_id"], "reason": "x" * 20},
            headers=bearer(tokens.flagger),
        ).status_code
        == 403
    )
    assert row_counts(runtime) == before


def test_stats_give_counts_time_to_action_and_deadlines_kept(
    client: TestClient, tokens: Tokens, reported: dict[str, Any], runtime: Runtime
) -> None:
    second = client.post(
        "/v1/reports", json=report_body("t.me/beritakita/2"), headers=bearer(tokens.flagger)
    ).json()
    for case_id in (reported["case_id"], second["case_id"]):
        client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
    client.post(
        f"/v1/cases/{reported['case_id']}/decision",
        json=decision_body(),
        headers=bearer(tokens.reviewer),
    )
    client.post(
        f"/v1/cases/{second['case_id']}/decision",
        json=decision_body("no_violation"),
        headers=bearer(tokens.reviewer),
    )
    # Make the two answers take 1 h and 30 h (the second past its 24 h deadline).
    with runtime.factory() as session, session.begin():
        for report_id, hours in ((reported["report_id"], 1), (second["report_id"], 30)):
            report = session.get(Report, uuid.UUID(report_id))
            assert report is not None and report.decided_at is not None
            report.received_at = report.decided_at - timedelta(hours=hours)
            report.deadline = report.received_at + timedelta(hours=24)
    figures = client.get("/v1/flaggers/me/stats", headers=bearer(tokens.flagger)).json()
    assert figures["total"] == 2
    assert figures["by_status"]["actioned"] == 1 and figures["by_status"]["declined"] == 1
    assert abs(figures["median_time_to_action_seconds"] - 3600) <= 2
    assert abs(figures["p95_time_to_action_seconds"] - 30 * 3600) <= 2
    assert figures["within_deadline_share"] == 0.5
    other = client.get("/v1/flaggers/me/stats", headers=bearer(tokens.flagger_other_org)).json()
    assert other["total"] == 0 and other["median_time_to_action_seconds"] is None
    empty = client.get(
        "/v1/flaggers/me/stats",
        params={"since": "2099-01-01T00:00:00Z"},
        headers=bearer(tokens.flagger),
    ).json()
    assert empty["total"] == 0
    bad = client.get("/v1/flaggers/me/stats?until=2026-01-01", headers=bearer(tokens.flagger))
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "until"
    assert client.get("/v1/flaggers/me/stats", headers=bearer(tokens.reviewer)).status_code == 403


def test_admins_manage_organisations_members_and_tokens(client: TestClient, tokens: Tokens) -> None:
    created = client.post(
        "/v1/flaggers",
        json={"name": "Kominfo Desk", "country": "ID", "webhook_url": "https://desk.example/hook"},
        headers=bearer(tokens.admin),
    )
    assert created.status_code == 201, created.text
    org = created.json()
    assert org["webhook_secret"].startswith("whsec_") and org["language"] == "id"
    listed = client.get("/v1/flaggers", headers=bearer(tokens.admin)).json()
    assert all(o["webhook_secret"] is None for o in listed)
    member = client.post(
        f"/v1/flaggers/{org['org_id']}/members",
        json={"email": "Analis@Desk.example"},
        headers=bearer(tokens.admin),
    )
    assert member.status_code == 201 and len(member.json()["one_time_password"]) == 19
    again = client.post(
        f"/v1/flaggers/{org['org_id']}/members",
        json={"email": "analis@desk.example"},
        headers=bearer(tokens.admin),
    )
    assert again.status_code == 409 and again.json()["error"]["field"] == "email"
    token = client.post(f"/v1/flaggers/{org['org_id']}/tokens", headers=bearer(tokens.admin))
    issued = token.json()
    assert client.get("/v1/reports", headers=bearer(issued["token"])).status_code == 200
    revoked = client.delete(
        f"/v1/flaggers/{org['org_id']}/tokens/{issued['token_id']}", headers=bearer(tokens.admin)
    )
    assert revoked.status_code == 204
    assert client.get("/v1/reports", headers=bearer(issued["token"])).status_code == 401
    for body, field in [
        ({"name": "X Desk", "country": "ID", "webhook_url": "ftp://x"}, "webhook_url"),
        ({"name": "Kominfo Desk", "country": "ID"}, "name"),
        ({"name": "Y Desk", "country": "ID", "trust": "max"}, "trust"),
    ]:
        answer = client.post("/v1/flaggers", json=body, headers=bearer(tokens.admin))
        assert answer.status_code in (409, 422) and answer.json()["error"]["field"] == field
    assert client.get("/v1/flaggers", headers=bearer(tokens.reviewer)).status_code == 403
