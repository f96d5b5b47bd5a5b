"""End to end through the running server: ingest → flagger report → claim → remove → tombstone."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tanggap.runtime import Runtime
from tests.factories import decision_body, post_body
from tests.serving import cli

pytestmark = pytest.mark.e2e
CHROMIUM = os.environ.get("TANGGAP_TEST_CHROMIUM", "/usr/bin/chromium")


def test_a_flagger_report_becomes_a_takedown(
    environment: dict[str, str], server: str, runtime: Runtime, artifacts: Path
) -> None:
    def token(*args: str) -> str:
        done = cli(environment, "token", "create", *args)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert (
        cli(environment, "flagger", "create", "--name", "Desk", "--country", "ID").returncode == 0
    )
    platform, flagger = token("--role", "platform"), token("--role", "flagger", "--org", "Desk")
    made = cli(environment, "reviewer", "create", "rina@example.org", "--languages", "id,ms,en")
    assert made.returncode == 0, made.stderr
    reviewer = token("--role", "reviewer", "--user", "rina@example.org")

    with httpx.Client(base_url=server, timeout=30) as http:
        assert http.get("/readyz").json()["status"] == "ok"
        body = post_body(channel="infojakarta", message_id=77, text="Klaim hadiah di sini")
        ingest = http.post("/v1/posts", json=body, headers={"Authorization": f"Bearer {platform}"})
        assert ingest.status_code == 201, ingest.text
        assert http.get("/c/infojakarta/77").status_code == 200

        as_flagger = {"Authorization": f"Bearer {flagger}", "Idempotency-Key": "tour-1"}
        receipt = http.post(
            "/v1/reports",
            json={"target": "https://t.me/infojakarta/77", "category": "fraud", "note": "hadiah"},
            headers=as_flagger,
        )
        assert receipt.status_code == 202, receipt.text
        report_id, case_id = receipt.json()["report_id"], receipt.json()["case_id"]

        as_reviewer = {"Authorization": f"Bearer {reviewer}"}
        queue_ = http.get("/v1/cases", headers=as_reviewer).json()
        assert [c["case_id"] for c in queue_["cases"]] == [case_id]
        assert http.post(f"/v1/cases/{case_id}/claim", headers=as_reviewer).status_code == 200
        decided = http.post(
            f"/v1/cases/{case_id}/decision", json=decision_body(), headers=as_reviewer
        )
        assert decided.status_code == 201, decided.text
        assert decided.json()["actions"][0]["state"] == "delivered"

        page = http.get("/c/infojakarta/77")
        assert page.status_code == 410
        assert "This post was removed" in page.text and "Fraud and scams" in page.text
        assert "Klaim hadiah" not in page.text
        status = http.get(f"/v1/reports/{report_id}", headers=as_flagger).json()
        assert status["status"] == "actioned"
        assert status["explanation"] == decision_body()["explanation"]

        _look_in_chromium(server, artifacts)

    # The server's sealer chains the events within a second; sealing here makes it certain.
    assert cli(environment, "audit", "seal").returncode == 0
    verified = cli(environment, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    checked = int(re.search(r"intact: (\d+) events sealed", verified.stdout).group(1))  # type: ignore[union-attr]
    assert checked >= 12

    with runtime.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET data = :d WHERE action = 'decision.recorded'"),
            {"d": '{"outcome":"no_violation"}'},
        )
        altered = conn.execute(
            text("SELECT seq FROM audit_events WHERE action = 'decision.recorded'")
        ).scalar_one()
    broken = cli(environment, "audit", "verify")
    assert broken.returncode == 1
    assert f"event {altered}" in broken.stderr


def _look_in_chromium(server: str, artifacts: Path) -> None:
    """Open the pages in Debian's Chromium as a viewer would, and keep screenshots."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        page.goto(f"{server}/c/infojakarta/77")
        tombstone = page.locator("article.tombstone")
        assert tombstone.get_attribute("data-state") == "removed"
        assert "violating Fraud and scams" in " ".join(tombstone.inner_text().split())
        page.screenshot(path=str(artifacts / "post-tombstone.png"), full_page=True)
        page.goto(f"{server}/c/infojakarta")
        assert page.locator("article[data-state=removed]").count() == 1
        page.screenshot(path=str(artifacts / "channel-with-tombstone.png"), full_page=True)
        browser.close()
