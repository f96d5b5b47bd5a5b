"""The legal register's intake: documents kept as digests, bad input refused naming the field
with nothing written, idempotent retries, and who may use it."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tanggap.audit.models import AuditEvent
from tanggap.legal.models import LegalDocument
from tanggap.runtime import Runtime
from tests.factories import Tokens, bearer, make_token, row_counts
from tests.legal_helpers import PDF, PNG, PSEUDONYM, make_officer, register, request_fields


@pytest.fixture
def officer(runtime: Runtime) -> str:
    """A legal officer's token."""
    return make_officer(runtime, "hukum@platform.example")


def test_a_request_keeps_its_documents_as_digests_only(
    client: TestClient, runtime: Runtime, officer: str
) -> None:
    files = [
        ("documents", ("order.pdf", PDF, "application/pdf")),
        # The declared type is not trusted: the bytes say PNG.
        ("documents", ("scan.bin", PNG, "application/octet-stream")),
    ]
    answer = register(client, officer, files=files, links=["t.me/BeritaKita/7"])
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["state"] == "received" and body["country"] == "ID"
    assert body["scope"]["links"] == ["https://t.me/beritakita/7"]
    assert body["scope"]["pseudonyms"] == [PSEUDONYM]
    assert body["documents"] == [
        {
            "sha256": hashlib.sha256(PDF).hexdigest(),
            "size": len(PDF),
            "media_type": "application/pdf",
        },
        {"sha256": hashlib.sha256(PNG).hexdigest(), "size": len(PNG), "media_type": "image/png"},
    ]
    with runtime.factory() as session:
        stored = session.execute(select(LegalDocument)).scalars().all()
        assert {d.sha256 for d in stored} == {d["sha256"] for d in body["documents"]}
        event = session.execute(
            select(AuditEvent).where(AuditEvent.action == "legal.request_registered")
        ).scalar_one()
        assert event.subject_id == body["request_id"]
        # Neither the authority's words nor a pseudonym goes into the audit trail.
        assert "Bareskrim" not in event.data and PSEUDONYM not in event.data
    shown = client.get(f"/v1/legal/requests/{body['request_id']}", headers=bearer(officer))
    assert shown.status_code == 200 and shown.json() == body


BAD_INPUT: list[tuple[str, dict[str, Any], list[Any] | None, str]] = [
    ("no authority", {"authority": ""}, None, "authority"),
    ("no country", {"country": ""}, None, "country"),
    ("no legal basis", {"legal_basis": "  "}, None, "legal_basis"),
    ("no reference", {"reference": ""}, None, "reference"),
    ("a country of three letters", {"country": "IDN"}, None, "country"),
    ("a country with a digit", {"country": "I1"}, None, "country"),
    ("an unknown kind", {"kind": "wiretap"}, None, "kind"),
    ("a time without a zone", {"received_at": "2026-12-01T09:00:00"}, None, "received_at"),
    ("a time before 2000", {"received_at": "1999-12-01T09:00:00Z"}, None, "received_at"),
    ("not a time", {"received_at": "yesterday"}, None, "received_at"),
    ("a private link", {"links": ["https://t.me/c/123/4"]}, None, "links"),
    ("a link elsewhere", {"links": ["https://example.com/p/1"]}, None, "links"),
    ("a bad channel", {"channels": ["ab"]}, None, "channels"),
    ("a phone number as a pseudonym", {"pseudonyms": ["+6281234567890"]}, None, "pseudonyms"),
    ("a short pseudonym", {"pseudonyms": ["abcd"]}, None, "pseudonyms"),
    ("a report id that is no uuid", {"report_ids": ["12"]}, None, "report_ids"),
    (
        "an unknown report",
        {"report_ids": ["6f1d0c5e-8c1e-4a53-9d0e-3b2f7a1c9e10"]},
        None,
        "report_ids",
    ),
    (
        "a text file named .pdf",
        {},
        [("documents", ("order.pdf", b"not a pdf at all", "application/pdf"))],
        "documents",
    ),
    (
        "an HTML page",
        {},
        [("documents", ("order.png", b"<html><body>%PDF-</body></html>", "image/png"))],
        "documents",
    ),
    (
        "a good document then a bad one",
        {},
        [
            ("documents", ("a.pdf", PDF, "application/pdf")),
            ("documents", ("b.zip", b"PK\x03\x04zip", "application/pdf")),
        ],
        "documents",
    ),
    ("an empty document", {}, [("documents", ("a.pdf", b"", "application/pdf"))], "documents"),
]


@pytest.mark.parametrize(
    ("fields", "files", "field"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    client: TestClient,
    runtime: Runtime,
    officer: str,
    fields: dict[str, Any],
    files: list[Any] | None,
    field: str,
) -> None:
    before = row_counts(runtime)
    answer = register(client, officer, files=files, **fields)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field, answer.text
    assert answer.json()["error"]["message"].startswith(f"{field}: ")
    assert row_counts(runtime) == before


def test_a_retry_with_the_same_key_registers_once(
    client: TestClient, runtime: Runtime, officer: str
) -> None:
    headers = {**bearer(officer), "Idempotency-Key": "order-1234"}
    first = client.post(
        "/v1/legal/requests",
        data=request_fields(),
        files=[("documents", ("order.pdf", PDF, "application/pdf"))],
        headers=headers,
    )
    assert first.status_code == 201, first.text
    again = client.post(
        "/v1/legal/requests",
        data=request_fields(),
        files=[("documents", ("order.pdf", PDF, "application/pdf"))],
        headers=headers,
    )
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    other = client.post(
        "/v1/legal/requests",
        data=request_fields(),
        files=[("documents", ("order.pdf", PDF + b"\n", "application/pdf"))],
        headers=headers,
    )
    assert other.status_code == 422, other.text  # the same key for another request
    listed = client.get("/v1/legal/requests", headers=bearer(officer))
    assert [r["request_id"] for r in listed.json()] == [first.json()["request_id"]]


@pytest.mark.parametrize("who", ["platform", "flagger", "reviewer", "lead"])
def test_only_legal_officers_and_admins_use_the_register(
    client: TestClient, runtime: Runtime, tokens: Tokens, officer: str, who: str
) -> None:
    token = make_token(runtime, "lead") if who == "lead" else getattr(tokens, who)
    created = register(client, officer)
    request_id = created.json()["request_id"]
    before = row_counts(runtime)
    calls = [
        ("GET", "/v1/legal/requests", None),
        ("GET", f"/v1/legal/requests/{request_id}", None),
        ("POST", f"/v1/legal/requests/{request_id}/assessment", {"court_order": True}),
        ("POST", f"/v1/legal/requests/{request_id}/decision", {"outcome": "refuse"}),
        ("GET", f"/v1/legal/requests/{request_id}/letters/en", None),
        ("GET", f"/v1/legal/requests/{request_id}/instruction", None),
    ]
    for method, path, body in calls:
        answer = client.request(method, path, json=body, headers=bearer(token))
        assert answer.status_code == 403, (path, answer.text)
    assert register(client, token).status_code == 403
    assert row_counts(runtime) == before
    assert register(client, tokens.admin).status_code == 201
