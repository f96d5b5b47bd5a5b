"""The review console in Debian's Chromium: next case, blurred media, keyboard decisions,
four eyes on a channel ban, an appeal reversed by a second reviewer."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from tanggap.audit.models import AuditEvent
from tanggap.runtime import Runtime
from tests.e2e.browser import chromium
from tests.factories import (
    Tokens,
    bearer,
    decision_body,
    one_time_password,
    post_body,
    report_body,
    run_triage,
)
from tests.portal_helpers import NEW_PASSWORD

pytestmark = pytest.mark.e2e
PROPAGANDA = (
    "Bergabunglah dengan Brigade Kabut Ungu, kelompok rekaan untuk pengujian, "
    "dan sebarkan seruan ini ke seluruh kanal kalian"
)


def new_reviewer(runtime: Runtime, email: str, role: str = "reviewer") -> str:
    """Create an Indonesian-reading console account; return its one-time password."""
    return one_time_password(runtime, email, ("id",), role=role)


def log_in(browser: Browser, live_server: str, email: str, one_time: str) -> Page:
    """Log into the console with a one-time password and choose a real one."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{live_server}/console/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", one_time)
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("Ganti kata sandi")
    page.fill("input[name=current]", one_time)
    page.fill("input[name=new]", NEW_PASSWORD)
    page.fill("input[name=repeat]", NEW_PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator("main h1")).to_have_text("Antrean")
    return page


def reported(
    live_server: str, tokens: Tokens, message_id: int, category: str, **media: str
) -> None:
    """Ingest an Indonesian post (with a media item when given) and report it as a flagger."""
    body = post_body(message_id=message_id, text=PROPAGANDA)
    if media:
        body["media"] = [{"sha256": "ab" * 32, **media}]
    with httpx.Client(base_url=live_server, timeout=30) as api:
        assert api.post("/v1/posts", json=body, headers=bearer(tokens.platform)).status_code == 201
        receipt = api.post(
            "/v1/reports",
            json=report_body(f"https://t.me/beritakita/{message_id}", category=category),
            headers=bearer(tokens.flagger),
        )
        assert receipt.status_code == 202, receipt.text


def public_status(live_server: str, path: str) -> int:
    with httpx.Client(base_url=live_server, timeout=30) as api:
        return api.get(path).status_code


def test_a_reviewer_takes_the_next_case_reveals_the_image_and_decides_by_keyboard(
    live_server: str, tokens: Tokens, runtime: Runtime, artifacts: Path
) -> None:
    reported(live_server, tokens, 1, "terrorism", url="/static/demo/propaganda-placeholder.svg")
    run_triage(runtime)
    one_time = new_reviewer(runtime, "peninjau@platform.example")

    with chromium() as browser:
        page = log_in(browser, live_server, "peninjau@platform.example", one_time)
        expect(page.locator("table.queues")).to_contain_text("id:terrorism")
        page.screenshot(path=str(artifacts / "console-queues.png"), full_page=True)

        page.click("#take-next")
        expect(page.locator("#case-state")).to_have_text("in_review")
        expect(page.locator("img.blurred")).to_have_count(1)
        page.screenshot(path=str(artifacts / "console-case-blurred.png"), full_page=True)
        page.click("button.reveal")
        expect(page.locator("figure.revealed img")).to_be_visible()
        expect(page.locator("img.blurred")).to_have_count(0)
        page.screenshot(path=str(artifacts / "console-case-revealed.png"), full_page=True)

        page.keyboard.press("r")
        expect(page.locator("input[name=outcome][value=remove]")).to_be_checked()
        expect(page.locator("#explanation")).to_have_value(
            "Konten ini telah diturunkan karena melanggar ketentuan tentang Konten terorisme."
        )
        page.keyboard.press("Control+Enter")
        expect(page.locator("#decided-notice")).to_be_visible()
        expect(page.locator("#case-state")).to_have_text("decided")
        page.screenshot(path=str(artifacts / "console-decided.png"), full_page=True)

    assert public_status(live_server, "/c/beritakita/1") == 410
    with runtime.factory() as session:
        revealed = (
            session.execute(select(AuditEvent).where(AuditEvent.action == "media.revealed"))
            .scalars()
            .all()
        )
    assert len(revealed) == 1 and revealed[0].actor.startswith("reviewer:")


def test_a_channel_ban_waits_for_a_second_reviewer(
    live_server: str, tokens: Tokens, runtime: Runtime, artifacts: Path
) -> None:
    reported(live_server, tokens, 1, "fraud")
    run_triage(runtime)
    first = new_reviewer(runtime, "pertama@platform.example")
    second = new_reviewer(runtime, "kedua@platform.example")

    with chromium() as browser:
        page = log_in(browser, live_server, "pertama@platform.example", first)
        page.click("#take-next")
        expect(page.locator("#case-state")).to_have_text("in_review")
        page.keyboard.press("b")
        expect(page.locator("input[name=outcome][value=ban_channel]")).to_be_checked()
        page.keyboard.press("Control+Enter")
        expect(page.locator("#case-state")).to_have_text("awaiting_approval")
        expect(page.locator("#approve")).to_have_count(0)  # not by the same reviewer
        assert public_status(live_server, "/c/beritakita") == 200

        other = log_in(browser, live_server, "kedua@platform.example", second)
        expect(other.locator("#approvals")).to_contain_text("Kanal diblokir")
        other.click("#approvals a")
        expect(other.locator("#approve")).to_be_visible()
        other.screenshot(path=str(artifacts / "console-four-eyes.png"), full_page=True)
        other.click("#approve")
        expect(other.locator("#case-state")).to_have_text("decided")

    assert public_status(live_server, "/c/beritakita") == 410


def test_an_appeal_reversed_by_a_second_reviewer_restores_the_post(
    live_server: str, tokens: Tokens, runtime: Runtime, artifacts: Path
) -> None:
    reported(live_server, tokens, 1, "fraud")
    with httpx.Client(base_url=live_server, timeout=30) as api:
        case_id = api.get("/v1/cases", headers=bearer(tokens.reviewer)).json()["cases"][0][
            "case_id"
        ]
        assert (
            api.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer)).status_code
            == 200
        )
        decided = api.post(
            f"/v1/cases/{case_id}/decision", json=decision_body(), headers=bearer(tokens.reviewer)
        )
        assert decided.status_code == 201
        assert api.get("/c/beritakita/1").status_code == 410
        appeal = api.post(
            "/v1/appeals",
            json={"channel": "beritakita", "message_id": 1, "reason": "Undian ini asli."},
            headers=bearer(tokens.platform),
        )
        assert appeal.status_code == 201, appeal.text
    run_triage(runtime)
    one_time = new_reviewer(runtime, "banding@platform.example")

    with chromium() as browser:
        page = log_in(browser, live_server, "banding@platform.example", one_time)
        page.click("#take-next")
        expect(page.locator("#case-state")).to_have_text("in_review")
        expect(page.locator("#appeal blockquote")).to_have_text("Undian ini asli.")
        page.keyboard.press("v")
        expect(page.locator("input[name=outcome][value=reverse]")).to_be_checked()
        page.screenshot(path=str(artifacts / "console-appeal.png"), full_page=True)
        page.keyboard.press("Control+Enter")
        expect(page.locator("#decided-notice")).to_be_visible()

    assert public_status(live_server, "/c/beritakita/1") == 200
    with httpx.Client(base_url=live_server, timeout=30) as api:
        statement = api.get(
            "/v1/posts/beritakita/1/statement", headers=bearer(tokens.platform)
        ).json()
    assert statement["appeal"]["state"] == "reversed"


def test_opening_a_case_marks_the_flaggers_messages_read(
    live_server: str, tokens: Tokens, runtime: Runtime
) -> None:
    reported(live_server, tokens, 1, "fraud")
    with httpx.Client(base_url=live_server, timeout=30) as api:
        report_id = api.get("/v1/reports", headers=bearer(tokens.flagger)).json()["reports"][0][
            "report_id"
        ]
        thread = f"/v1/reports/{report_id}/messages"
        wrote = api.post(thread, json={"body": "Mohon segera."}, headers=bearer(tokens.flagger))
        assert wrote.status_code == 201
    run_triage(runtime)
    one_time = new_reviewer(runtime, "pembaca@platform.example")

    with chromium() as browser:
        page = log_in(browser, live_server, "pembaca@platform.example", one_time)
        # The page shows the message, then posts its read mark (the GET itself writes nothing).
        with page.expect_response(lambda answer: answer.url.endswith("/threads/read")) as marked:
            page.click("#take-next")
        assert marked.value.status == 204
        expect(page.locator(".thread .message.from-flagger .body")).to_have_text("Mohon segera.")

    with httpx.Client(base_url=live_server, timeout=30) as api:
        messages = api.get(thread, headers=bearer(tokens.flagger)).json()["messages"]
    assert messages[0]["read_by_platform_at"] is not None
