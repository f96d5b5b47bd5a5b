"""The review console over HTTP: who gets in, CSRF, visibility, refusals that write nothing."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from tanggap.audit.models import AuditEvent
from tanggap.runtime import Runtime
from tests.factories import Tokens, bearer, post_body, report_body, row_counts, run_triage
from tests.portal_helpers import console_signed_in, form_value, log_in, signed_in

TEXT = "Selamat! Anda memenangkan hadiah undian, kirim kode OTP anda sekarang juga"


def reported(client: TestClient, tokens: Tokens, category: str = "fraud", **post: object) -> str:
    client.post("/v1/posts", json=post_body(text=TEXT, **post), headers=bearer(tokens.platform))
    receipt = client.post(
        "/v1/reports", json=report_body(category=category), headers=bearer(tokens.flagger)
    )
    assert receipt.status_code == 202, receipt.text
    return str(receipt.json()["case_id"])


def test_the_console_is_for_staff_only(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    away = client.get("/console/queues", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/console/login"
    # A flagger's portal session does not open the console, nor does their password.
    signed_in(client, runtime, "Cyber Desk A", "analis@desk-a.example")
    assert client.get("/console/queues", follow_redirects=False).status_code == 303
    refused = log_in(client, "analis@desk-a.example", "kata-sandi-rahasia-2026", area="/console")
    assert refused == (401, None)


def test_forms_without_this_sessions_csrf_token_are_refused(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    case_id = reported(client, tokens)
    run_triage(runtime)
    console_signed_in(client, runtime, "peninjau@platform.example")
    before = row_counts(runtime)
    for path in ("/console/next", f"/console/cases/{case_id}/claim", "/console/pause"):
        answer = client.post(path, data={"csrf_token": "forged"}, follow_redirects=False)
        assert answer.status_code == 403, path
    assert row_counts(runtime) == before


def test_next_case_opens_the_case_page_with_why_it_came_first(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    case_id = reported(client, tokens)
    run_triage(runtime)
    csrf = console_signed_in(client, runtime, "peninjau@platform.example")
    taken = client.post("/console/next", data={"csrf_token": csrf}, follow_redirects=False)
    assert taken.headers["location"] == f"/console/cases/{case_id}"
    page = client.get(taken.headers["location"]).text
    assert TEXT in page and "id:fraud" in page and 'id="decision-form"' in page
    assert "severity" in page and "source" in page  # the priority explanation
    renewed = client.post(f"/console/cases/{case_id}/renew", data={"csrf_token": csrf})
    assert renewed.status_code == 200 and 'hx-trigger="every 120s"' in renewed.text
    nothing = client.post("/console/next", data={"csrf_token": csrf}, follow_redirects=False)
    assert nothing.headers["location"] == "/console/queues?empty=1"


def test_a_case_the_reviewer_may_not_see_is_not_found(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    case_id = reported(client, tokens, category="child_sexual_abuse")
    run_triage(runtime)
    console_signed_in(client, runtime, "peninjau@platform.example")  # no clearance
    page = client.get(f"/console/cases/{case_id}")
    assert page.status_code == 404 and TEXT not in page.text
    assert client.get("/console/cases/not-a-uuid").status_code == 404


def test_a_wrong_decision_shows_the_page_again_and_writes_nothing(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    case_id = reported(client, tokens)
    run_triage(runtime)
    csrf = console_signed_in(client, runtime, "peninjau@platform.example")
    client.post("/console/next", data={"csrf_token": csrf})
    before = row_counts(runtime)
    answer = client.post(
        f"/console/cases/{case_id}/decide",
        data={
            "csrf_token": csrf,
            "outcome": "geo_restrict",
            "countries": "",
            "ground": "law",
            "policy_ref": "UU ITE",
            "explanation": "Dibatasi.",
        },
    )
    assert answer.status_code == 422
    assert 'id="form-error"' in answer.text and "countries" in answer.text
    assert form_value(answer.text, "csrf_token") == csrf
    empty = client.post(
        f"/console/cases/{case_id}/escalate", data={"csrf_token": csrf, "reason": ""}
    )
    assert empty.status_code == 422
    assert row_counts(runtime) == before


def test_revealing_a_blurred_image_is_recorded(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    media = [{"sha256": "cd" * 32, "url": "https://cdn.example/p/1.jpg"}]
    case_id = reported(client, tokens, category="terrorism", media=media)
    run_triage(runtime)
    csrf = console_signed_in(client, runtime, "peninjau@platform.example")
    page = client.get(f"/console/cases/{case_id}").text
    assert 'class="blurred" src="https://cdn.example/p/1.jpg"' in page
    revealed = client.post(f"/console/cases/{case_id}/media/0/reveal", data={"csrf_token": csrf})
    assert revealed.status_code == 200 and "revealed" in revealed.text
    assert "blurred" not in revealed.text
    missing = client.post(f"/console/cases/{case_id}/media/5/reveal", data={"csrf_token": csrf})
    assert missing.status_code == 404
    with runtime.factory() as session:
        events = (
            session.execute(select(AuditEvent).where(AuditEvent.action == "media.revealed"))
            .scalars()
            .all()
        )
    assert [e.subject_id for e in events] == [case_id]


def test_media_links_must_be_web_addresses(client: TestClient, tokens: Tokens) -> None:
    for url in ("javascript:alert(1)", "data:image/png;base64,AAAA", "//evil.example/x"):
        body = post_body(media=[{"sha256": "cd" * 32, "url": url}])
        answer = client.post("/v1/posts", json=body, headers=bearer(tokens.platform))
        assert answer.status_code == 422, url
        assert answer.json()["error"]["field"] == "media.0.url"


def test_the_case_page_shows_signals_and_applies_a_removal_to_near_copies(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    scam = (
        "Selamat! Nomor anda memenangkan hadiah undian mobil, kirim kode OTP dan PIN ke admin kami"
    )
    for channel, message_id in (("kanal_a", 1), ("kanal_b", 2), ("kanal_c", 3)):
        client.post(
            "/v1/posts",
            json=post_body(channel=channel, message_id=message_id, text=scam + f" {channel}"),
            headers=bearer(tokens.platform),
        )
    receipt = client.post(
        "/v1/reports", json=report_body("t.me/kanal_a/1"), headers=bearer(tokens.flagger)
    ).json()
    run_triage(runtime)
    csrf = console_signed_in(client, runtime, "peninjau@platform.example")
    client.post("/console/next", data={"csrf_token": csrf})
    client.post(
        f"/console/cases/{receipt['case_id']}/decide",
        data={
            "csrf_token": csrf,
            "outcome": "remove",
            "ground": "terms",
            "policy_ref": "terms/fraud",
            "explanation": "Penipuan undian.",
        },
    )
    page = client.get(f"/console/cases/{receipt['case_id']}").text
    assert 'id="near-duplicates"' in page and "kanal_b" in page and "kanal_c" in page
    links = re.findall(r'name="link_ids" value="([^"]+)" checked aria-label="kanal_b/2"', page)
    assert len(links) == 1
    nothing = client.post(f"/console/cases/{receipt['case_id']}/cascade", data={"csrf_token": csrf})
    assert nothing.status_code == 422
    applied = client.post(
        f"/console/cases/{receipt['case_id']}/cascade",
        data={"csrf_token": csrf, "link_ids": links},
        follow_redirects=False,
    )
    assert applied.status_code == 303
    assert client.get("/c/kanal_b/2").status_code == 410
    assert client.get("/c/kanal_c/3").status_code == 200  # not selected

    client.post(
        "/v1/posts",
        json=post_body(channel="kanal_z", message_id=9, text=scam + " ulang"),
        headers=bearer(tokens.platform),
    )
    run_triage(runtime)
    reupload = client.get("/v1/cases?category=fraud", headers=bearer(tokens.reviewer)).json()
    (case,) = [c for c in reupload["cases"] if c["post"]["channel"] == "kanal_z"]
    shown = client.get(f"/console/cases/{case['case_id']}").text
    assert 'id="signals"' in shown and "removed_content" in shown


def test_a_console_removal_can_fill_a_bank(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    made = client.post(
        "/v1/banks",
        json={"name": "otp-scams", "category": "fraud", "policy": "review"},
        headers=bearer(tokens.admin),
    )
    assert made.status_code == 201
    case_id = reported(client, tokens)
    run_triage(runtime)
    csrf = console_signed_in(client, runtime, "peninjau@platform.example")
    page = client.post("/console/next", data={"csrf_token": csrf}).text
    assert 'name="add_to_bank"' in page and "otp-scams (review)" in page
    form = {
        "csrf_token": csrf,
        "ground": "terms",
        "policy_ref": "terms/fraud",
        "explanation": "Penipuan OTP.",
        "add_to_bank": "otp-scams",
    }
    before = row_counts(runtime)
    wrong = client.post(
        f"/console/cases/{case_id}/decide", data={**form, "outcome": "no_violation"}
    )
    assert wrong.status_code == 422 and "add_to_bank" in wrong.text
    assert row_counts(runtime) == before
    done = client.post(
        f"/console/cases/{case_id}/decide",
        data={**form, "outcome": "remove"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    banks = client.get("/v1/banks", headers=bearer(tokens.reviewer)).json()
    assert [(b["name"], b["entries"]) for b in banks] == [("otp-scams", 1)]
