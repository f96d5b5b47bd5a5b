"""GET handlers do not write: every GET route of the app, called as a signed-in user would call
it with real ids, leaves the database as it found it. One documented exception: the API's read
receipt, ``GET /v1/reports/{report_id}/messages`` (docs/flaggers.md)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select

from tanggap.policy.schemas import LegalPolicy
from tanggap.runtime import Runtime
from tanggap.tables import Base
from tests.factories import (
    CLEARED,
    Tokens,
    bearer,
    decision_body,
    make_reviewer,
    post_body,
    report_body,
    run_triage,
)
from tests.legal_helpers import FINDING, make_officer, officer_signed_in, register, step
from tests.portal_helpers import console_signed_in, signed_in

SCAM = "Selamat! Anda memenangkan hadiah undian, kirim kode OTP anda sekarang juga"
# A signed-in page slides its session's expiry (at most once a minute): session bookkeeping.
NOT_SNAPSHOT = {"web_sessions"}
NOT_THE_APPS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
ROLES = ("admin", "reviewer", "lead", "flagger", "platform")
READ_RECEIPT = "/v1/reports/{report_id}/messages"
READ_RECEIPT_WRITES = {"report_messages", "audit_events", "audit_chain_head"}
READ_MARKS = ("report_messages.read_by_flagger_at", "report_messages.read_by_platform_at")
PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")


def snapshot(runtime: Runtime, *, without: Collection[str] = ()) -> dict[str, str]:
    """Hash every table's rows in primary-key order; ``without`` names columns (table.column)
    left out."""
    hashes: dict[str, str] = {}
    with runtime.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in NOT_SNAPSHOT:
                continue
            columns = [c for c in table.columns if f"{table.name}.{c.name}" not in without]
            order = list(table.primary_key.columns) or columns
            digest = hashlib.sha256()
            for row in conn.execute(select(*columns).order_by(*order)):
                values = tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                digest.update(repr(values).encode())
            hashes[table.name] = digest.hexdigest()
    return hashes


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    """The tables whose rows differ between two snapshots."""
    return {name for name in before if before[name] != after[name]}


def get_routes(app: FastAPI) -> list[str]:
    """The path of every route of the app that answers GET, but the docs and static files."""
    paths = [
        route.path
        for route in iter_route_contexts(app.routes)
        if "GET" in (route.methods or ()) and route.path not in NOT_THE_APPS
    ]
    assert len(paths) == len(set(paths)), "a GET path registered twice"
    return paths


def must(answer: Any, *statuses: int) -> dict[str, Any]:
    """Assert an answer's status; return its JSON body."""
    assert answer.status_code in statuses, answer.text
    return dict(answer.json())


def populate(client: TestClient, tokens: Tokens, runtime: Runtime) -> list[dict[str, str]]:
    """Fill the database through the API; return path-parameter values, a full set first, then
    a second set of other ids (another case, post, report)."""
    platform, admin = bearer(tokens.platform), bearer(tokens.admin)
    for message_id, text in ((1, SCAM), (2, "Halo semua"), (3, "Berita pagi ini")):
        body = post_body(message_id=message_id, text=text)
        must(client.post("/v1/posts", json=body, headers=platform), 200, 201)
    flagged = must(
        client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger)), 202
    )
    from_a_user = must(
        client.post(
            "/v1/reports",
            json=report_body("https://t.me/beritakita/2", reporter_id=777),
            headers=platform,
        ),
        202,
    )
    run_triage(runtime)
    report_id, case_id = str(flagged["report_id"]), str(flagged["case_id"])
    messages = f"/v1/reports/{report_id}/messages"
    for token, text in ((tokens.flagger, "Mohon segera ditindak."), (tokens.reviewer, "Baik.")):
        must(client.post(messages, json={"body": text}, headers=bearer(token)), 201)
    must(client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer)), 200)
    decided = client.post(
        f"/v1/cases/{case_id}/decision", json=decision_body(), headers=bearer(tokens.reviewer)
    )
    must(decided, 201)
    appeal = {"channel": "beritakita", "message_id": 1, "reason": "It was a real giveaway."}
    appeal_id = must(client.post("/v1/appeals", json=appeal, headers=platform), 201)["appeal_id"]
    bank = {"name": "otp-scams", "category": "fraud", "policy": "review"}
    must(client.post("/v1/banks", json=bank, headers=admin), 201)
    entries = client.post("/v1/banks/otp-scams/entries", json={"texts": [SCAM]}, headers=admin)
    scan_id = must(entries, 200)["scan_id"]
    assert scan_id is not None
    orgs = client.get("/v1/flaggers", headers=admin)
    assert orgs.status_code == 200, orgs.text
    org_id = next(o["org_id"] for o in orgs.json() if o["name"] == "Cyber Desk A")
    granted, refused = legal_requests(client, tokens, runtime)
    first = {
        "request_id": granted,
        "language": "en",
        "report_id": report_id,
        "case_id": case_id,
        "appeal_id": str(appeal_id),
        "scan_id": str(scan_id),
        "name": "otp-scams",
        "org_id": str(org_id),
        "channel": "beritakita",
        "handle": "beritakita",
        "message_id": "1",
    }
    others = {
        "request_id": refused,
        "report_id": str(from_a_user["report_id"]),
        "case_id": str(from_a_user["case_id"]),
        "message_id": "2",
    }
    return [first, {**first, **others}]


def legal_requests(client: TestClient, tokens: Tokens, runtime: Runtime) -> tuple[str, str]:
    """Two requests in the legal register: one granted (a signed instruction, under the
    ``court_order_suspect`` policy), one refused (its letters); their ids."""
    officer = make_officer(runtime, "hukum@platform.example")
    kept = runtime.policy
    runtime.policy = kept.model_copy(
        update={"legal": LegalPolicy(data_requests="court_order_suspect")}
    )
    ids = []
    for outcome in ("grant", "refuse"):
        request_id = must(register(client, officer), 201)["request_id"]
        must(step(client, officer, request_id, "assessment", FINDING), 200)
        must(step(client, tokens.admin, request_id, "decision", {"outcome": outcome}), 200)
        ids.append(str(request_id))
    runtime.policy = kept
    return ids[0], ids[1]


def paths_for(route: str, values: list[dict[str, str]]) -> list[str]:
    """``route`` with each set of real values put in, without repeats."""
    names = PARAMETER.findall(route)
    missing = [name for name in names if name not in values[0]]
    assert not missing, f"GET {route}: no real value for {missing}; add one to populate()"
    filled = [fill(route, v) for v in values]
    return list(dict.fromkeys(filled))


def fill(route: str, values: dict[str, str]) -> str:
    """``route`` with its path parameters replaced by ``values``."""
    return PARAMETER.sub(lambda match: values[match.group(1)], route)


@contextmanager
def browser(app: FastAPI) -> Iterator[TestClient]:
    """Another browser: a client with its own cookie jar."""
    with TestClient(app, raise_server_exceptions=False) as other:
        yield other


def test_no_get_route_writes(
    app: FastAPI, client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    """Call every GET route with real ids, as each role (API), signed in and signed out (portal,
    console), or as anyone (channel pages, health); the database stays as it was."""
    values = populate(client, tokens, runtime)
    lead = make_reviewer(runtime, "ketua@platform.example", ("id", "en", "ms"), CLEARED, "lead")
    tokens_in_order = (tokens.admin, tokens.reviewer, lead, tokens.flagger, tokens.platform)
    roles = dict(zip(ROLES, tokens_in_order, strict=True))
    routes = get_routes(app)
    assert {"/healthz", "/metrics", "/", "/c/{handle}/{message_id}", READ_RECEIPT} <= set(routes)
    assert {"/portal/reports/{report_id}", "/console/cases/{case_id}"} <= set(routes)
    writes: dict[str, set[str]] = {}
    answered: dict[str, list[int]] = {route: [] for route in routes}
    with (
        browser(app) as portal,
        browser(app) as console,
        browser(app) as register_pages,
        browser(app) as signed_out,
    ):
        signed_in(portal, runtime, "Cyber Desk A", "analis@desk-a.example")
        officer_signed_in(register_pages, runtime, "hukum.konsol@platform.example")
        console_signed_in(
            console, runtime, "ketua.konsol@platform.example", ("id", "en", "ms"), CLEARED, "lead"
        )
        # (who, their browser, their headers, whether the route is meant for them)
        callers: list[tuple[str, TestClient, dict[str, str], bool]]
        before = snapshot(runtime)
        for route in routes:
            if route.startswith("/v1") or route == "/metrics":
                callers = [(role, client, bearer(token), True) for role, token in roles.items()]
            elif route.startswith(("/portal", "/console")):
                area = portal if route.startswith("/portal") else console
                if route.startswith("/console/legal"):
                    area = register_pages
                callers = [("signed in", area, {}, True), ("signed out", signed_out, {}, False)]
            else:
                callers = [("anyone", signed_out, {}, True)]
            for path in paths_for(route, values):
                for who, http, headers, intended in callers:
                    marks = snapshot(runtime, without=READ_MARKS) if route == READ_RECEIPT else {}
                    answer = http.get(path, headers=headers, follow_redirects=False)
                    assert answer.status_code < 500, f"GET {path} as {who}: {answer.status_code}"
                    if intended:
                        answered[route].append(answer.status_code)
                    after = snapshot(runtime)
                    tables = changed(before, after)
                    if route == READ_RECEIPT:
                        assert tables <= READ_RECEIPT_WRITES, f"GET {path} as {who} wrote {tables}"
                        unmarked = changed(marks, snapshot(runtime, without=READ_MARKS))
                        assert "report_messages" not in unmarked, (
                            f"GET {path} as {who} changed report_messages beyond read_by_*"
                        )
                    elif tables:
                        writes.setdefault(f"{route} as {who}", set()).update(tables)
                    before = after
    unexercised = {route: codes for route, codes in answered.items() if min(codes) >= 400}
    assert not unexercised, f"GET routes no caller got a 2xx/3xx from: {unexercised}"
    assert not writes, f"GET routes that wrote (route: tables changed): {writes}"


def test_the_snapshot_sees_a_write(client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    """A POST that stores a post changes the snapshot, so the test above can fail."""
    before = snapshot(runtime)
    must(client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform)), 200, 201)
    assert {"posts", "channels"} <= changed(before, snapshot(runtime))


def test_the_pages_mark_threads_read_with_a_form_of_their_own(
    app: FastAPI, client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    """Showing a thread still marks it read, as before: the page posts a small form once it
    shows the messages (CSRF-checked), where a GET used to write."""
    must(client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform)), 200, 201)
    with browser(app) as portal, browser(app) as console:
        portal_csrf = signed_in(portal, runtime, "Cyber Desk A", "analis@desk-a.example")
        submitted = portal.post(
            "/portal/submit",
            data={
                "csrf_token": portal_csrf,
                "mode": "single",
                "link": "https://t.me/beritakita/1",
                "category": "fraud",
                "submission_id": "one",
            },
        )
        assert submitted.status_code == 200, submitted.text
        report_id = re.search(r"/portal/reports/([0-9a-f-]{36})", submitted.text).group(1)  # type: ignore[union-attr]
        thread = f"/v1/reports/{report_id}/messages"
        must(
            client.post(thread, json={"body": "Mohon dicek."}, headers=bearer(tokens.flagger)), 201
        )
        must(
            client.post(thread, json={"body": "Sedang dicek."}, headers=bearer(tokens.reviewer)),
            201,
        )
        case_id = must(
            client.get(f"/v1/reports/{report_id}", headers=bearer(tokens.reviewer)), 200
        )["case_id"]

        # The console: the page shows the flagger's message and asks to mark it read, up to the
        # newest message it showed; one written after the page was drawn stays unread.
        console_csrf = console_signed_in(console, runtime, "ketua@platform.example", ("id", "en"))
        page = console.get(f"/console/cases/{case_id}")
        mark = f"/console/cases/{case_id}/threads/read"
        assert page.status_code == 200 and mark in page.text
        upto = re.search(r'"upto": "([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        flagger = bearer(tokens.flagger)
        must(client.post(thread, json={"body": "Ada satu lagi."}, headers=flagger), 201)
        assert console.post(mark, data={"csrf_token": "", "upto": upto}).status_code == 403
        wrong = console.post(mark, data={"csrf_token": console_csrf, "upto": "kemarin"})
        assert wrong.status_code == 422 and wrong.text.startswith("upto:")
        marked = console.post(mark, data={"csrf_token": console_csrf, "upto": upto})
        assert marked.status_code == 204
        again = console.get(f"/console/cases/{case_id}").text
        assert mark in again and upto not in again  # only the later message waits now

        # The portal: the report page fetches its thread with a form; that marks it read.
        unread = must(client.get(f"/v1/reports/{report_id}", headers=bearer(tokens.flagger)), 200)
        assert unread["unread_messages"] == 1
        assert portal.get(f"/portal/reports/{report_id}").status_code == 200
        still = must(client.get(f"/v1/reports/{report_id}", headers=bearer(tokens.flagger)), 200)
        assert still["unread_messages"] == 1  # the page's GET changed nothing
        shown = portal.post(f"/portal/reports/{report_id}/thread", data={"csrf_token": portal_csrf})
        assert shown.status_code == 200 and "Sedang dicek." in shown.text
        read = must(client.get(f"/v1/reports/{report_id}", headers=bearer(tokens.flagger)), 200)
        assert read["unread_messages"] == 0
    as_flagger = must(client.get(thread, headers=bearer(tokens.flagger)), 200)["messages"]
    read_by_platform = [(m["body"], m["read_by_platform_at"] is not None) for m in as_flagger]
    assert read_by_platform == [
        ("Mohon dicek.", True),  # the console's form marked it
        ("Sedang dicek.", True),  # the platform's own
        ("Ada satu lagi.", False),  # written after the page was drawn
    ]
