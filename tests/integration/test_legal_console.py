"""The legal register's console pages: who gets in, the intake form, a request's page with its
assessment, decision and letters; refusals show the form again and write nothing."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tanggap.runtime import Runtime
from tests.factories import row_counts
from tests.legal_helpers import PDF, PSEUDONYM, officer_signed_in, request_fields
from tests.portal_helpers import console_signed_in, form_value


def intake(csrf: str, **fields: str) -> dict[str, str]:
    """The intake form's fields, lists one value a line."""
    base = request_fields(pseudonyms=PSEUDONYM)
    return {**base, **fields, "csrf_token": csrf}


def test_a_legal_officer_registers_assesses_and_refuses_from_the_console(
    client: TestClient, runtime: Runtime
) -> None:
    csrf = officer_signed_in(client, runtime, "hukum@platform.example")
    listed = client.get("/console/legal")
    assert listed.status_code == 200 and "Belum ada permintaan dalam register." in listed.text
    # A legal officer has no review queues.
    assert client.get("/console/queues", follow_redirects=False).status_code == 303
    sent = client.post(
        "/console/legal/requests",
        data=intake(csrf, links="https://t.me/beritakita/1\nt.me/beritakita/2"),
        files=[("documents", ("order.pdf", PDF, "application/pdf"))],
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    page_path = sent.headers["location"]
    assert re.fullmatch(r"/console/legal/requests/[0-9a-f-]{36}", page_path)
    page = client.get(page_path).text
    assert "B/1234/XII/2026/Dittipidsiber" in page and "https://t.me/beritakita/2" in page
    assert "application/pdf" in page and 'id="assess"' in page
    assessed = client.post(
        f"{page_path}/assessment",
        data={
            "court_order": "true",
            "finding": "Not a court order naming a suspect.",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert assessed.status_code == 303
    refused = client.post(
        f"{page_path}/decision",
        data={"outcome": "refuse", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert refused.status_code == 303
    page = client.get(page_path).text
    assert 'id="state">refused<' in page
    assert "Tidak ada data pribadi tentang akun-akun yang Anda sebutkan" in page
    assert "No personal data about the accounts you named" in page
    assert "B/1234/XII/2026/Dittipidsiber" in client.get("/console/legal?state=refused").text
    assert "Belum ada permintaan dalam register." in client.get("/console/legal?country=MY").text


def test_a_bad_intake_shows_the_form_again_naming_the_field(
    client: TestClient, runtime: Runtime
) -> None:
    csrf = officer_signed_in(client, runtime, "hukum@platform.example")
    before = row_counts(runtime)
    cases = [
        (intake(csrf, authority=""), [], "authority"),
        (intake(csrf, country="Indonesia"), [], "country"),
        (
            intake(csrf),
            [("documents", ("order.pdf", b"MZ\x90\x00", "application/pdf"))],
            "documents",
        ),
    ]
    for data, files, field in cases:
        answer = client.post("/console/legal/requests", data=data, files=files or None)
        assert answer.status_code == 422, field
        error = re.search(r'id="form-error">([^<]*)<', answer.text)
        assert error and error.group(1).startswith(f"{field}: "), answer.text
    forged = client.post("/console/legal/requests", data=intake("forged"))
    assert forged.status_code == 403
    assert row_counts(runtime) == before
    backwards = client.get("/console/legal?country=IDN")
    assert backwards.status_code == 422 and "country: " in backwards.text


def test_reviewers_do_not_see_the_register(client: TestClient, runtime: Runtime) -> None:
    console_signed_in(client, runtime, "peninjau@platform.example")
    for path in ("/console/legal", "/console/legal/new"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/console/login"
    assert 'id="nav-legal"' not in client.get("/console/queues").text
    assert form_value(client.get("/console/queues").text, "csrf_token")
