"""Legal officers and requests for the legal register's tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tanggap.auth import service as auth
from tanggap.legal import accounts
from tanggap.legal.schemas import OfficerIn
from tanggap.reviewers import service as reviewers
from tanggap.runtime import Runtime
from tests.factories import bearer
from tests.portal_helpers import NEW_PASSWORD, form_value, log_in

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
PSEUDONYM = "ab" * 32
OTHER_PSEUDONYM = "cd" * 32


def new_officer(runtime: Runtime, email: str) -> str:
    """Create a legal officer's account; return the one-time password."""
    with runtime.factory() as session, session.begin():
        created = accounts.create_officer(session=session, data=OfficerIn(email=email))
        return created.one_time_password


def make_officer(runtime: Runtime, email: str) -> str:
    """Create a legal officer's account and return an API token of it."""
    new_officer(runtime, email)
    with runtime.factory() as session, session.begin():
        principal = reviewers.find_by_email(session=session, email=email)
        assert principal is not None
        return auth.issue_token(session=session, principal=principal).token


def officer_signed_in(client: TestClient, runtime: Runtime, email: str) -> str:
    """Log a new legal officer into the console; return the CSRF token of the session."""
    one_time = new_officer(runtime, email)
    assert log_in(client, email, one_time, area="/console") == (303, "/console/password")
    csrf = form_value(client.get("/console/password").text, "csrf_token")
    changed = client.post(
        "/console/password",
        data={"current": one_time, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert changed.status_code == 303 and changed.headers["location"] == "/console/legal"
    return form_value(client.get("/console/legal/new").text, "csrf_token")


def request_fields(kind: str = "user_data", **fields: Any) -> dict[str, Any]:
    """The form fields of a valid request (multipart)."""
    body: dict[str, Any] = {
        "kind": kind,
        "authority": "Direktorat Tindak Pidana Siber, Bareskrim Polri",
        "country": "id",
        "legal_basis": "UU ITE Pasal 43",
        "reference": "B/1234/XII/2026/Dittipidsiber",
        "received_at": "2026-12-01T09:00:00+07:00",
        "pseudonyms": [PSEUDONYM],
    }
    body.update(fields)
    return body


def register(
    client: TestClient,
    token: str,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    **fields: Any,
) -> Any:
    """POST a request to the register; return the answer."""
    kind = fields.pop("kind", "user_data")
    return client.post(
        "/v1/legal/requests",
        data=request_fields(kind, **fields),
        files=files or [("documents", ("order.pdf", PDF, "application/pdf"))],
        headers=bearer(token),
    )


def step(client: TestClient, token: str, request_id: str, name: str, body: dict[str, Any]) -> Any:
    """POST an assessment or a decision on a request; return the answer."""
    return client.post(f"/v1/legal/requests/{request_id}/{name}", json=body, headers=bearer(token))


FINDING = {"court_order": True, "names_suspect": True, "finding": "Court order, suspect named."}
