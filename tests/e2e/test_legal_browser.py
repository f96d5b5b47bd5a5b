"""The legal register's intake form in Debian's Chromium: a request with its order's PDF."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tanggap.runtime import Runtime
from tests.e2e.browser import chromium
from tests.legal_helpers import PDF, PSEUDONYM, new_officer
from tests.portal_helpers import NEW_PASSWORD

pytestmark = pytest.mark.e2e


def test_a_legal_officer_registers_a_request_with_its_pdf(
    live_server: str, runtime: Runtime, tmp_path: Path
) -> None:
    one_time = new_officer(runtime, "hukum@platform.example")
    order = tmp_path / "surat-perintah.pdf"
    order.write_bytes(PDF)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(f"{live_server}/console/login")
        page.fill("input[name=email]", "hukum@platform.example")
        page.fill("input[name=password]", one_time)
        page.click("main button[type=submit]")
        page.fill("input[name=current]", one_time)
        page.fill("input[name=new]", NEW_PASSWORD)
        page.fill("input[name=repeat]", NEW_PASSWORD)
        page.click("main button[type=submit]")
        expect(page.locator("main h1")).to_have_text("Register hukum")
        page.click("#new-request")
        page.select_option("select[name=kind]", "user_data")
        page.fill("input[name=authority]", "Direktorat Tindak Pidana Siber")
        page.fill("input[name=country]", "id")
        page.fill("input[name=legal_basis]", "UU ITE Pasal 43")
        page.fill("input[name=reference]", "B/99/XII/2026")
        page.fill("input[name=received_at]", "2026-12-01T09:00:00+07:00")
        page.fill("textarea[name=pseudonyms]", PSEUDONYM)
        page.set_input_files("input[name=documents]", str(order))
        page.click("#register-request")
        expect(page.locator("#state")).to_have_text("received")
        expect(page.locator("#documents")).to_contain_text(hashlib.sha256(PDF).hexdigest())
