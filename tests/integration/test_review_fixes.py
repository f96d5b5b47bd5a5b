"""Edge cases from review: lockout races, stale sessions, objected cases, odd files, dates."""

from __future__ import annotations

import csv
import io
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tanggap.auth import logins as web
from tanggap.auth.models import Principal
from tanggap.runtime import Runtime
from tests.factories import Tokens, bearer, decision_body, post_body, report_body, row_counts
from tests.portal_helpers import NEW_PASSWORD, add_member, form_value, log_in, signed_in


@pytest.fixture
def posts(client: TestClient, tokens: Tokens) -> None:
    for message_id in (1, 2, 3):
        client.post(
            "/v1/posts", json=post_body(message_id=message_id), headers=bearer(tokens.platform)
        )


def test_parallel_wrong_passwords_still_lock_the_account(runtime: Runtime, tokens: Tokens) -> None:
    one_time = add_member(runtime, "Cyber Desk A", "analis@desk-a.example")

    def guess(n: int) -> object:
        return web.login(
            factory=runtime.factory,
            email="analis@desk-a.example",
            password=f"tebakan-{n}",
            roles=("flagger",),
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(guess, range(8)))
    assert all(isinstance(o, web.LoginRefused) for o in outcomes)
    with runtime.factory() as session:
        member = session.execute(
            select(Principal).where(Principal.email == "analis@desk-a.example")
        ).scalar_one()
    assert member.locked_until is not None
    refused = web.login(
        factory=runtime.factory,
        email="analis@desk-a.example",
        password=one_time,
        roles=("flagger",),
    )
    assert refused == web.LoginRefused("wrong")  # locked looks like wrong: no enumeration


def test_changing_the_password_signs_out_every_other_session(
    app: FastAPI, runtime: Runtime, tokens: Tokens
) -> None:
    one_time = add_member(runtime, "Cyber Desk A", "analis@desk-a.example")
    intruder, member = TestClient(app), TestClient(app)
    assert log_in(intruder, "analis@desk-a.example", one_time)[0] == 303
    assert log_in(member, "analis@desk-a.example", one_time)[0] == 303
    csrf = form_value(member.get("/portal/password").text, "csrf_token")
    member.post(
        "/portal/password",
        data={"current": one_time, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD, "csrf_token": csrf},
    )
    assert member.get("/portal/reports").status_code == 200
    stale = intruder.get("/portal/reports", follow_redirects=False)
    assert stale.status_code == 303 and stale.headers["location"] == "/portal/login"


def test_a_new_report_on_an_objected_case_puts_it_back_in_the_queue(
    client: TestClient, tokens: Tokens, posts: None
) -> None:
    first = client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger)).json()
    client.post(f"/v1/cases/{first['case_id']}/claim", headers=bearer(tokens.reviewer))
    client.post(
        f"/v1/cases/{first['case_id']}/objection",
        json={"report_id": first["report_id"], "reason": "Ini liputan berita yang sah."},
        headers=bearer(tokens.reviewer),
    )
    order = client.post(
        "/v1/reports",
        json=report_body(
            category="terrorism",
            order_type="removal_order",
            issuing_authority="Direktorat X",
            legal_basis="UU 5/2018",
        ),
        headers=bearer(tokens.flagger_other_org),
    ).json()
    case = client.get(f"/v1/cases/{first['case_id']}", headers=bearer(tokens.reviewer)).json()
    assert case["state"] == "open" and case["deadline"] == order["deadline"]
    assert case["category"] == "terrorism"
    assert (
        client.post(
            f"/v1/cases/{first['case_id']}/claim", headers=bearer(tokens.reviewer)
        ).status_code
        == 200
    )


def test_a_reply_after_the_takedown_settles_the_objected_report(
    client: TestClient, tokens: Tokens, posts: None
) -> None:
    mine = client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger)).json()
    theirs = client.post(
        "/v1/reports", json=report_body(), headers=bearer(tokens.flagger_other_org)
    ).json()
    case_id = mine["case_id"]
    client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
    client.post(
        f"/v1/cases/{case_id}/objection",
        json={"report_id": mine["report_id"], "reason": "Tautan yang dikirim tidak tepat."},
        headers=bearer(tokens.reviewer),
    )
    client.post(
        f"/v1/cases/{case_id}/decision", json=decision_body(), headers=bearer(tokens.reviewer)
    )
    assert (
        client.get(
            f"/v1/reports/{theirs['report_id']}", headers=bearer(tokens.flagger_other_org)
        ).json()["status"]
        == "actioned"
    )
    client.post(
        f"/v1/reports/{mine['report_id']}/messages",
        json={"body": "Postingan itu memang penipuan."},
        headers=bearer(tokens.flagger),
    )
    shown = client.get(f"/v1/reports/{mine['report_id']}", headers=bearer(tokens.flagger)).json()
    assert shown["status"] == "actioned" and shown["outcome"] == "remove"


@pytest.mark.parametrize(
    "query",
    [
        "since=0001-01-01T00:00:00%2B14:00",
        "until=9999-12-31T23:59:59-12:00",
        "since=1990-01-01T00:00:00Z",
    ],
)
def test_dates_far_away_are_refused_not_crashed_on(
    client: TestClient, tokens: Tokens, query: str
) -> None:
    for path in ("/v1/reports", "/v1/flaggers/me/stats"):
        answer = client.get(f"{path}?{query}", headers=bearer(tokens.flagger))
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["error"]["field"] in ("since", "until")


def portal_submit_csv(browser: TestClient, csrf: str, content: bytes) -> Any:
    return browser.post(
        "/portal/submit",
        data={"csrf_token": csrf, "mode": "csv", "submission_id": "f1"},
        files={"file": ("laporan.csv", content, "text/csv")},
    )


def test_portal_files_dates_and_exports_are_handled(
    app: FastAPI, client: TestClient, runtime: Runtime, tokens: Tokens, posts: None
) -> None:
    browser = TestClient(app)
    csrf = signed_in(browser, runtime, "Cyber Desk A", "analis@desk-a.example")
    before = row_counts(runtime)
    assert portal_submit_csv(browser, csrf, b"\xef\xbb\xbf").status_code == 422
    assert row_counts(runtime) == before
    semicolons = 'link;category;note\nhttps://t.me/beritakita/1;fraud;=HYPERLINK("x")\n'
    accepted = portal_submit_csv(browser, csrf, semicolons.encode())
    assert re.findall(r'data-fate="(\w+)"', accepted.text) == ["accepted"]
    for query in ("since=0001-01-01", "until=9999-12-31", "since=kemarin"):
        page = browser.get(f"/portal/reports?{query}")
        assert page.status_code == 200 and "2026-11-23" in page.text  # the hint, no crash
    today = client.get("/v1/reports", headers=bearer(tokens.flagger)).json()["reports"][0]
    day = today["received_at"][:10]
    same_day = browser.get(f"/portal/reports?since={day}&until={day}")
    assert same_day.text.count('data-status="received"') == 1
    export = browser.get("/portal/reports.csv").content.decode("utf-8-sig")
    [row] = list(csv.DictReader(io.StringIO(export)))
    assert row["note"] == '\'=HYPERLINK("x")'


def test_a_form_sent_again_with_other_content_gets_a_page_not_json(
    app: FastAPI, runtime: Runtime, tokens: Tokens, posts: None
) -> None:
    browser = TestClient(app)
    csrf = signed_in(browser, runtime, "Cyber Desk A", "analis@desk-a.example")
    data = {"csrf_token": csrf, "submission_id": "same-id", "mode": "paste", "category": "fraud"}
    browser.post("/portal/submit", data={**data, "links": "https://t.me/beritakita/1"})
    again = browser.post("/portal/submit", data={**data, "links": "https://t.me/beritakita/2"})
    assert again.status_code == 422
    assert again.headers["content-type"].startswith("text/html")
    assert form_value(again.text, "submission_id") != "same-id-paste"
