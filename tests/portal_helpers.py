"""Drive the flagger portal as a browser would: forms, cookies, CSRF tokens."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tanggap.flaggers import service as flaggers
from tanggap.flaggers.schemas import MemberIn
from tanggap.runtime import Runtime
from tests.factories import one_time_password

NEW_PASSWORD = "kata-sandi-rahasia-2026"


def add_member(runtime: Runtime, org_name: str, email: str) -> str:
    """Create a portal member of ``org_name``; return the one-time password."""
    with runtime.factory() as session, session.begin():
        org = flaggers.get_by_name(session=session, name=org_name)
        assert org is not None
        return flaggers.add_member(
            session=session, org=org, data=MemberIn(email=email)
        ).one_time_password


def form_value(html: str, name: str) -> str:
    """Return the value of the hidden input ``name`` in a page."""
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} in the page"
    return match.group(1)


def log_in(
    client: TestClient, email: str, password: str, area: str = "/portal"
) -> tuple[int, str | None]:
    """Submit the login form of ``area``; return the status and where it redirects."""
    page = client.get(f"{area}/login")
    answer = client.post(
        f"{area}/login",
        data={
            "email": email,
            "password": password,
            "login_token": form_value(page.text, "login_token"),
        },
        follow_redirects=False,
    )
    return answer.status_code, answer.headers.get("location")


def signed_in(client: TestClient, runtime: Runtime, org_name: str, email: str) -> str:
    """Log a new member in, change the one-time password; return the session's CSRF token."""
    one_time = add_member(runtime, org_name, email)
    assert log_in(client, email, one_time) == (303, "/portal/password")
    csrf = form_value(client.get("/portal/password").text, "csrf_token")
    changed = client.post(
        "/portal/password",
        data={"current": one_time, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert changed.status_code == 303, changed.text
    # A new password means a new session, and with it a new CSRF token.
    return form_value(client.get("/portal/submit").text, "csrf_token")


def console_signed_in(
    client: TestClient,
    runtime: Runtime,
    email: str,
    languages: tuple[str, ...] = ("id",),
    clearances: tuple[str, ...] = (),
    role: str = "reviewer",
) -> str:
    """Create a console account, log in, change the one-time password; return the CSRF token."""
    one_time = one_time_password(runtime, email, languages, clearances, role)
    assert log_in(client, email, one_time, area="/console") == (303, "/console/password")
    csrf = form_value(client.get("/console/password").text, "csrf_token")
    changed = client.post(
        "/console/password",
        data={"current": one_time, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert changed.status_code == 303 and changed.headers["location"] == "/console/queues"
    return form_value(client.get("/console/queues").text, "csrf_token")
