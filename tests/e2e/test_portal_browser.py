"""An Indonesian flagger in Chromium: log in, paste 20 links, follow one report to its takedown."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tanggap.runtime import Runtime
from tests.e2e.browser import chromium
from tests.factories import Tokens, bearer, decision_body, post_body
from tests.portal_helpers import NEW_PASSWORD, add_member

pytestmark = pytest.mark.e2e


def test_an_indonesian_flagger_reports_twenty_links_and_sees_the_takedown(
    live_server: str, tokens: Tokens, runtime: Runtime, artifacts: Path
) -> None:
    with httpx.Client(base_url=live_server, timeout=30) as api:
        for message_id in range(1, 21):
            api.post(
                "/v1/posts",
                json=post_body(message_id=message_id, text=f"Undian berhadiah #{message_id}"),
                headers=bearer(tokens.platform),
            )
    one_time = add_member(runtime, "Cyber Desk A", "analis@desk-a.example")

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{live_server}/portal/login")
        expect(page.locator("h1")).to_have_text("Masuk")
        page.screenshot(path=str(artifacts / "portal-login.png"))
        page.fill("input[name=email]", "analis@desk-a.example")
        page.fill("input[name=password]", one_time)
        page.click("main button[type=submit]")

        expect(page.locator("h1")).to_have_text("Ganti kata sandi")
        page.fill("input[name=current]", one_time)
        page.fill("input[name=new]", NEW_PASSWORD)
        page.fill("input[name=repeat]", NEW_PASSWORD)
        page.click("main button[type=submit]")
        expect(page.locator("h1")).to_have_text("Laporan")

        page.click("text=Kirim")
        links = "\n".join(f"https://t.me/beritakita/{n}" for n in range(1, 21))
        paste_form = page.locator("form:has(textarea[name=links])")
        paste_form.locator("textarea[name=links]").fill(links)
        paste_form.locator("select[name=category]").select_option("fraud")
        page.screenshot(path=str(artifacts / "portal-submit.png"), full_page=True)
        paste_form.locator("button[type=submit]").click()

        expect(page.locator("h1")).to_have_text("Hasil pengiriman")
        expect(page.locator("tr[data-fate=accepted]")).to_have_count(20)
        expect(page.locator("[data-count=accepted]")).to_have_text("20")
        page.screenshot(path=str(artifacts / "portal-results.png"), full_page=True)

        page.locator("tr[data-fate=accepted] a").first.click()
        expect(page.locator("#report-status")).to_have_attribute("data-status", "received")
        page.fill("textarea[name=body]", "Mohon segera ditindak, ini penipuan undian.")
        page.click("#thread button[type=submit]")
        expect(page.locator(".message.from-flagger .body")).to_have_text(
            "Mohon segera ditindak, ini penipuan undian."
        )
        report_id = page.url.rsplit("/", 1)[1]

        with httpx.Client(base_url=live_server, timeout=30) as api:
            as_reviewer = bearer(tokens.reviewer)
            case_id = api.get(f"/v1/reports/{report_id}", headers=as_reviewer).json()["case_id"]
            api.post(
                f"/v1/reports/{report_id}/messages",
                json={"body": "Terima kasih, sedang kami tinjau."},
                headers=as_reviewer,
            )
            assert api.post(f"/v1/cases/{case_id}/claim", headers=as_reviewer).status_code == 200
            decided = api.post(
                f"/v1/cases/{case_id}/decision", json=decision_body(), headers=as_reviewer
            )
            assert decided.status_code == 201

        # The status panel polls the server: the page changes without a reload.
        expect(page.locator("#report-status")).to_have_attribute(
            "data-status", "actioned", timeout=15_000
        )
        expect(page.locator("#report-status .explanation")).to_have_text(
            decision_body()["explanation"]
        )
        expect(page.locator(".message.from-platform .body")).to_have_text(
            "Terima kasih, sedang kami tinjau.", timeout=15_000
        )
        page.screenshot(path=str(artifacts / "portal-report-actioned.png"), full_page=True)

        page.click("text=Laporan >> nth=0")
        expect(page.locator("tr[data-status=actioned]")).to_have_count(1)
        expect(page.locator("tr[data-status=received]")).to_have_count(19)
        expect(page.locator(".countdown").first).to_contain_text("lagi")
        page.screenshot(path=str(artifacts / "portal-reports.png"), full_page=True)
