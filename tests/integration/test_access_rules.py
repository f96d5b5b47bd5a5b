"""Who may see what: a reviewer without the clearance a case's category needs sees nothing of it
(API and console), and a platform principal sees only the reports, appeals and statements that
are its own."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tanggap.runtime import Runtime
from tests.factories import (
    Tokens,
    bearer,
    decision_body,
    make_reviewer,
    make_token,
    post_body,
    report_body,
    row_counts,
    run_triage,
)
from tests.portal_helpers import console_signed_in

CSAM = "child_sexual_abuse"


def must(answer: Any, *statuses: int) -> dict[str, Any]:
    """Assert an answer's status; return its JSON body."""
    assert answer.status_code in statuses, answer.text
    return dict(answer.json())


def report_restricted_post(client: TestClient, tokens: Tokens, runtime: Runtime) -> dict[str, Any]:
    """A flagger's report of post 1 as child sexual abuse material, and a fraud report of post 2,
    each with a message on its thread; return both receipts."""
    for message_id in (1, 2):
        body = post_body(message_id=message_id)
        must(client.post("/v1/posts", json=body, headers=bearer(tokens.platform)), 201)
    flagger = bearer(tokens.flagger)
    restricted = must(
        client.post("/v1/reports", json=report_body(category=CSAM), headers=flagger), 202
    )
    ordinary = must(
        client.post("/v1/reports", json=report_body("https://t.me/beritakita/2"), headers=flagger),
        202,
    )
    for receipt in (restricted, ordinary):
        thread = f"/v1/reports/{receipt['report_id']}/messages"
        must(client.post(thread, json={"body": "Mohon ditindak."}, headers=flagger), 201)
    run_triage(runtime)
    return {"restricted": restricted, "ordinary": ordinary}


def test_a_reviewer_without_clearance_reads_and_writes_nothing_of_a_restricted_case(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    """Not the case, nor its reports (in the list and its total), threads (read or write), the
    post's signals, statement or appeal: the same 404 as for what does not exist."""
    found = report_restricted_post(client, tokens, runtime)
    report_id, case_id = found["restricted"]["report_id"], found["restricted"]["case_id"]
    uncleared = bearer(make_reviewer(runtime, "belum@platform.example", ("id", "en")))
    cleared = bearer(tokens.reviewer)
    must(client.post(f"/v1/cases/{case_id}/claim", headers=cleared), 200)
    must(client.post(f"/v1/cases/{case_id}/decision", json=decision_body(), headers=cleared), 201)
    appeal = {"channel": "beritakita", "message_id": 1, "reason": "A mistake."}
    platform = bearer(tokens.platform)
    appeal_id = must(client.post("/v1/appeals", json=appeal, headers=platform), 201)["appeal_id"]
    paths = [
        f"/v1/cases/{case_id}",
        f"/v1/reports/{report_id}",
        f"/v1/reports/{report_id}/messages",
        "/v1/posts/beritakita/1/signals",
        "/v1/posts/beritakita/1/statement",
        f"/v1/appeals/{appeal_id}",
    ]
    for path in paths:
        assert client.get(path, headers=cleared).status_code == 200, path
        refused = client.get(path, headers=uncleared)
        assert refused.status_code == 404, f"{path}: {refused.status_code}"
        assert refused.json()["error"]["code"] == "not_found"
    listed = must(client.get("/v1/reports", headers=uncleared), 200)
    assert [r["report_id"] for r in listed["reports"]] == [found["ordinary"]["report_id"]]
    assert listed["total"] == 1
    assert must(client.get("/v1/reports", headers=cleared), 200)["total"] == 2
    before = row_counts(runtime)
    written = client.post(
        f"/v1/reports/{report_id}/messages", json={"body": "Saya lihat."}, headers=uncleared
    )
    assert written.status_code == 404
    assert row_counts(runtime) == before


def test_acting_on_a_restricted_case_held_by_another_is_a_404_not_a_409(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    """A 409 ("claimed by someone else") would tell an uncleared reviewer the case exists."""
    found = report_restricted_post(client, tokens, runtime)
    report_id, case_id = found["restricted"]["report_id"], found["restricted"]["case_id"]
    uncleared = bearer(make_reviewer(runtime, "belum@platform.example", ("id", "en")))
    must(client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer)), 200)
    objection = {"report_id": report_id, "reason": "A news report, not abuse material."}
    before = row_counts(runtime)
    for action, body in (
        ("claim", None),
        ("release", None),
        ("decision", decision_body()),
        ("escalate", {"reason": "Needs a lead."}),
        ("objection", objection),
        ("approval", {"approve": True}),
    ):
        refused = client.post(f"/v1/cases/{case_id}/{action}", json=body, headers=uncleared)
        assert refused.status_code == 404, f"{action}: {refused.status_code}"
    assert row_counts(runtime) == before


def test_the_console_writes_to_no_thread_of_a_restricted_case(
    app: FastAPI, client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    """Through a case they may see, an uncleared reviewer cannot reach a restricted report's
    thread (the report's id named in the form's path); nor a report of another case."""
    found = report_restricted_post(client, tokens, runtime)
    ordinary_case = found["ordinary"]["case_id"]
    with TestClient(app, raise_server_exceptions=False) as console:
        csrf = console_signed_in(console, runtime, "belum@platform.example", ("id", "en"))
        page = console.get(f"/console/cases/{ordinary_case}")
        assert page.status_code == 200
        assert console.get(f"/console/cases/{found['restricted']['case_id']}").status_code == 404
        before = row_counts(runtime)
        restricted_report = found["restricted"]["report_id"]
        console.post(
            f"/console/cases/{ordinary_case}/reports/{restricted_report}/messages",
            data={"csrf_token": csrf, "body": "Saya lihat."},
        )
        assert row_counts(runtime) == before
    messages = must(
        client.get(f"/v1/reports/{restricted_report}/messages", headers=bearer(tokens.flagger)),
        200,
    )["messages"]
    assert [m["body"] for m in messages] == ["Mohon ditindak."]


def test_a_platform_principal_sees_only_its_own(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    """Another platform principal gets 404 for the first one's user reports (and an empty list),
    appeals and statements; it cannot appeal the first one's post nor send it again."""
    mine, other = bearer(tokens.platform), bearer(make_token(runtime, "platform", name="other"))
    must(client.post("/v1/posts", json=post_body(), headers=mine), 201)
    user_report = report_body(reporter_id=777, note="Penipuan, saya kehilangan uang.")
    report_id = must(client.post("/v1/reports", json=user_report, headers=mine), 202)["report_id"]
    case_id = must(client.get(f"/v1/reports/{report_id}", headers=mine), 200)["case_id"]
    # The same user id sent by another principal is another user: no duplicate of this report.
    theirs = must(client.post("/v1/reports", json=user_report, headers=other), 202)
    assert theirs["duplicate"] is False and theirs["report_id"] != report_id
    reviewer = bearer(tokens.reviewer)
    run_triage(runtime)
    must(client.post(f"/v1/cases/{case_id}/claim", headers=reviewer), 200)
    must(client.post(f"/v1/cases/{case_id}/decision", json=decision_body(), headers=reviewer), 201)
    appeal = {"channel": "beritakita", "message_id": 1, "reason": "A mistake."}
    before = row_counts(runtime)
    refused = client.post("/v1/appeals", json=appeal, headers=other)
    assert refused.status_code == 404 and refused.json()["error"]["field"] == "message_id"
    resent = client.post("/v1/posts", json=post_body(text="diganti"), headers=other)
    assert resent.status_code == 409 and resent.json()["error"]["field"] == "message_id"
    assert row_counts(runtime) == before
    appeal_id = must(client.post("/v1/appeals", json=appeal, headers=mine), 201)["appeal_id"]
    for path in (
        f"/v1/reports/{report_id}",
        f"/v1/appeals/{appeal_id}",
        "/v1/posts/beritakita/1/statement",
    ):
        assert client.get(path, headers=mine).status_code == 200, path
        assert client.get(path, headers=other).status_code == 404, path
    assert must(client.get("/v1/reports", headers=mine), 200)["total"] == 1
    listed = must(client.get("/v1/reports", headers=other), 200)
    assert [r["report_id"] for r in listed["reports"]] == [theirs["report_id"]]
    again = client.post("/v1/posts", json=post_body(text="diganti"), headers=mine)
    assert again.status_code == 200 and again.json()["changed"] == ["text"]
