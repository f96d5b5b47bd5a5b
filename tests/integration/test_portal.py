"""The flagger portal through its forms: login, lockout, CSRF, submission, reports, thread, CSV."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tanggap.runtime import Runtime
from tests.factories import Tokens, bearer, decision_body, post_body, report_body, row_counts
from tests.portal_helpers import NEW_PASSWORD, add_member, form_value, log_in, signed_in


@pytest.fixture
def posts(client: TestClient, tokens: Tokens) -> None:
    for message_id in range(1, 26):
        client.post(
            "/v1/posts", json=post_body(message_id=message_id), headers=bearer(tokens.platform)
        )


@pytest.fixture
def browser(app: FastAPI, tokens: Tokens) -> TestClient:
    """A second client with its own cookie jar: the flagger's browser."""
    return TestClient(app, raise_server_exceptions=False)


def paste(browser: TestClient, csrf: str, links: list[str], category: str = "fraud") -> str:
    form = browser.get("/portal/submit").text
    answer = browser.post(
        "/portal/submit",
        data={
            "csrf_token": csrf,
            "submission_id": form_value(form, "submission_id"),
            "mode": "paste",
            "links": "\n".join(links),
            "category": category,
        },
    )
    assert answer.status_code == 200, answer.text
    return answer.text


def fates(html: str) -> list[str]:
    return re.findall(r'data-fate="(\w+)"', html)


def test_a_member_must_replace_the_one_time_password_first(
    browser: TestClient, runtime: Runtime, tokens: Tokens
) -> None:
    one_time = add_member(runtime, "Cyber Desk A", "analis@desk-a.example")
    assert log_in(browser, "analis@desk-a.example", one_time) == (303, "/portal/password")
    blocked = browser.get("/portal/reports", follow_redirects=False)
    assert blocked.status_code == 303 and blocked.headers["location"] == "/portal/password"
    csrf = form_value(browser.get("/portal/password").text, "csrf_token")
    short = browser.post(
        "/portal/password",
        data={"current": one_time, "new": "pendek", "repeat": "pendek", "csrf_token": csrf},
    )
    assert short.status_code == 422 and "12" in short.text
    browser.post(
        "/portal/password",
        data={"current": one_time, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD, "csrf_token": csrf},
    )
    page = browser.get("/portal/reports")
    assert page.status_code == 200 and "Laporan" in page.text  # Indonesian organisation
    fresh = TestClient(browser.app)
    assert log_in(fresh, "analis@desk-a.example", one_time)[0] == 401
    assert log_in(fresh, "analis@desk-a.example", NEW_PASSWORD) == (303, "/portal/reports")


def test_repeated_failures_lock_the_account(
    browser: TestClient, runtime: Runtime, tokens: Tokens
) -> None:
    one_time = add_member(runtime, "Cyber Desk A", "analis@desk-a.example")
    for _ in range(5):
        assert log_in(browser, "analis@desk-a.example", "salah-salah-salah")[0] == 401
    locked = log_in(browser, "analis@desk-a.example", one_time)
    assert locked[0] == 401
    page = browser.get("/portal/login")
    assert page.status_code == 200
    answer = browser.post(
        "/portal/login",
        data={
            "email": "analis@desk-a.example",
            "password": one_time,
            "login_token": form_value(page.text, "login_token"),
        },
    )
    assert "15" in answer.text  # "try again in 15 minutes"


def test_unknown_accounts_and_staff_cannot_use_the_portal(
    browser: TestClient, runtime: Runtime, tokens: Tokens
) -> None:
    assert log_in(browser, "nobody@desk.example", "whatever-it-is")[0] == 401
    assert browser.get("/portal/reports", follow_redirects=False).status_code == 303
    forged = browser.post(
        "/portal/login",
        data={"email": "x@y.example", "password": "p", "login_token": "forged"},
    )
    assert "expired" in forged.text or "kedaluwarsa" in forged.text


def test_pasting_links_answers_every_line_and_writes_only_valid_ones(
    browser: TestClient, runtime: Runtime, tokens: Tokens, posts: None
) -> None:
    csrf = signed_in(browser, runtime, "Cyber Desk A", "analis@desk-a.example")
    links = [f"https://t.me/beritakita/{n}" for n in range(1, 19)]
    links += ["https://t.me/beritakita/999", "bukan tautan"]
    html = paste(browser, csrf, links)
    assert fates(html) == ["accepted"] * 18 + ["unknown_post", "invalid"]
    assert row_counts(runtime)["reports"] == 18
    again = paste(browser, csrf, links[:3])
    assert fates(again) == ["duplicate"] * 3
    listed = browser.get("/portal/reports")
    assert listed.text.count('data-status="received"') == 18


def test_a_resent_form_changes_nothing(
    browser: TestClient, runtime: Runtime, tokens: Tokens, posts: None
) -> None:
    csrf = signed_in(browser, runtime, "Cyber Desk A", "analis@desk-a.example")
    form = browser.get("/portal/submit").text
    data = {
        "csrf_token": csrf,
        "submission_id": form_value(form, "submission_id"),
        "mode": "paste",
        "links": "https://t.me/beritakita/1\nhttps://t.me/beritakita/2",
        "category": "drugs",
    }
    first = browser.post("/portal/submit", data=data)
    before = row_counts(runtime)
    second = browser.post("/portal/submit", data=data)
    assert fates(second.text) == fates(first.text) == ["accepted", "accepted"]
    assert row_counts(runtime) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"link,category\n", "no rows"),
        (b"url,category\nhttps://t.me/beritakita/1,fraud\n", "unknown column"),
        (b"note\nhalo\n", "link"),
        (b"link,category\nhttps://t.me/beritakita/1,fraud,extra\n", "row 2"),
        (b'link,category\n"https://t.me/beritakita/1,fraud\n', "CSV"),
        ("link,category\nhttps://t.me/beritakita/1,fraud\n".encode("utf-16"), "UTF-8"),
    ],
)
def test_a_malformed_csv_is_refused_whole(
    browser: TestClient,
    runtime: Runtime,
    tokens: Tokens,
    posts: None,
    content: bytes,
    message: str,
) -> None:
    csrf = signed_in(browser, runtime, "Cyber Desk A", "analis@desk-a.example")
    before = row_counts(runtime)
    answer = browser.post(
        "/portal/submit",
        data={"csrf_token": csrf, "mode": "csv", "submission_id": "x"},
        files={"file": ("laporan.csv", content, "text/csv")},
    )
    assert answer.status_code == 422
    assert message in answer.text
    assert row_counts(runtime) == before


def test_a_csv_upload_is_judged_line_by_line(
    browser: TestClient, runtime: Runtime, tokens: Tokens, posts: None
) -> None:
    csrf = signed_in(browser, runtime, "Cyber Desk A", "analis@desk-a.example")
    content = (
        b"link,category,note,order_type,legal_basis,issuing_authority\n"
        b"https://t.me/beritakita/1,drugs,jual obat,,,\n"
        b"https://t.me/beritakita/2,terrorism,,removal_order,UU 5/2018,Direktorat X\n"
        b"https://t.me/beritakita/3,terrorism,,removal_order,,\n"
    )
    answer = browser.post(
        "/portal/submit",
        data={"csrf_token": csrf, "mode": "csv", "submission_id": "csv-1"},
        files={"file": ("laporan.csv", content, "text/csv")},
    )
    assert fates(answer.text) == ["accepted", "accepted", "invalid"]
    assert "issuing_authority" in answer.text


def test_forms_without_the_session_csrf_token_are_refused(
    browser: TestClient, runtime: Runtime, tokens: Tokens, posts: None
) -> None:
    signed_in(browser, runtime, "Cyber Desk A", "analis@desk-a.example")
    before = row_counts(runtime)
    for token in ("", "not-the-token"):
        answer = browser.post(
            "/portal/submit",
            data={"csrf_token": token, "mode": "single", "link": "t.me/beritakita/1"},
        )
        assert answer.status_code == 403
    assert row_counts(runtime) == before


def test_an_expired_session_goes_back_to_the_login_page(
    browser: TestClient, runtime: Runtime, tokens: Tokens
) -> None:
    signed_in(browser, runtime, "Cyber Desk A", "analis@desk-a.example")
    with runtime.engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(text("UPDATE web_sessions SET expires_at = :past"), {"past": "2000-01-01"})
    answer = browser.get("/portal/reports", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/portal/login"
    htmx = browser.get("/portal/reports", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.headers["HX-Redirect"] == "/portal/login"


def test_the_report_page_thread_and_status_follow_the_review(
    browser: TestClient, client: TestClient, runtime: Runtime, tokens: Tokens, posts: None
) -> None:
    csrf = signed_in(browser, runtime, "Cyber Desk A", "analis@desk-a.example")
    html = paste(browser, csrf, ["https://t.me/beritakita/5"])
    report_id = re.search(r"/portal/reports/([0-9a-f-]{36})", html).group(1)  # type: ignore[union-attr]
    page = browser.get(f"/portal/reports/{report_id}")
    assert page.status_code == 200 and 'data-status="received"' in page.text
    wrote = browser.post(
        f"/portal/reports/{report_id}/messages",
        data={"csrf_token": csrf, "body": "Mohon ditindak sebelum siang."},
        headers={"HX-Request": "true"},
    )
    assert wrote.status_code == 200 and "Mohon ditindak sebelum siang." in wrote.text
    report = client.get(f"/v1/reports/{report_id}", headers=bearer(tokens.reviewer)).json()
    client.post(f"/v1/cases/{report['case_id']}/claim", headers=bearer(tokens.reviewer))
    client.post(
        f"/v1/cases/{report['case_id']}/decision",
        json=decision_body(),
        headers=bearer(tokens.reviewer),
    )
    status = browser.get(f"/portal/reports/{report_id}/status")
    assert 'data-status="actioned"' in status.text
    assert decision_body()["explanation"] in status.text


def test_organisations_only_ever_see_their_own_reports(
    browser: TestClient, client: TestClient, runtime: Runtime, tokens: Tokens, posts: None
) -> None:
    other = client.post(
        "/v1/reports",
        json=report_body("t.me/beritakita/7", note="catatan rahasia B"),
        headers=bearer(tokens.flagger_other_org),
    ).json()
    signed_in(browser, runtime, "Cyber Desk A", "analis@desk-a.example")
    assert browser.get(f"/portal/reports/{other['report_id']}").status_code == 404
    assert browser.get("/portal/reports/not-a-uuid").status_code == 404
    assert "catatan rahasia B" not in browser.get("/portal/reports").text
    assert "catatan rahasia B" not in browser.get("/portal/reports.csv").text


def test_the_csv_export_has_exactly_the_documented_columns(
    browser: TestClient, runtime: Runtime, tokens: Tokens, posts: None
) -> None:
    csrf = signed_in(browser, runtime, "Cyber Desk A", "analis@desk-a.example")
    paste(browser, csrf, [f"https://t.me/beritakita/{n}" for n in (1, 2, 3)])
    export = browser.get("/portal/reports.csv?status=received")
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert len(rows) == 3
    assert list(rows[0]) == [
        "report_id", "status", "category", "order_type", "link", "received_at", "deadline",
        "decided_at", "time_to_action_seconds", "within_deadline", "outcome", "explanation",
        "legal_basis", "issuing_authority", "note",
    ]  # fmt: skip
    assert {r["link"] for r in rows} == {f"https://t.me/beritakita/{n}" for n in (1, 2, 3)}


def test_the_language_switch_and_english(
    browser: TestClient, runtime: Runtime, tokens: Tokens
) -> None:
    csrf = signed_in(browser, runtime, "Hotline B", "staf@hotline-b.example")  # a Malaysian org
    assert "Reports" in browser.get("/portal/reports").text
    browser.post(
        "/portal/language", data={"language": "id", "csrf_token": csrf, "back": "/portal/submit"}
    )
    assert "Kirim laporan" in browser.get("/portal/submit").text
