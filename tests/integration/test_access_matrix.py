"""The access matrix: every route of the app (API and pages, every method) called as every role,
with real seeded objects and valid bodies, answers what ``tests/access_matrix.csv`` says.

The table is the reference of who may do what (README, "Who may see what"). Its rows run top to
bottom and each row's roles in ``RUN_ORDER``, refusals first: a refused call writes nothing, so
only an allowed call changes what later cells see. A route whose calls change a case gets a case
of its own (``own_case``), so rows do not depend on each other; within a row, a second allowed
role may find the case taken or decided by the first (the row's note says so).

To fill the table for new routes or a new role, run this test with
``TANGGAP_RECORD_ACCESS_MATRIX=1``: it writes the answers it got instead of comparing them; read
every changed cell before committing it."""

from __future__ import annotations

import csv
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from tanggap.auth import service as auth
from tanggap.auth.schemas import ROLES as PRINCIPAL_ROLES
from tanggap.eu_database import service as eu_statements
from tanggap.policy.schemas import LegalPolicy
from tanggap.reviewers import service as reviewers
from tanggap.runtime import Runtime
from tests.factories import (
    CLEARED,
    bearer,
    decision_body,
    make_org,
    make_reviewer,
    make_token,
    post_body,
    report_body,
    run_triage,
)
from tests.legal_helpers import (
    FINDING,
    PDF,
    PSEUDONYM,
    officer_signed_in,
    register,
    request_fields,
    step,
)
from tests.portal_helpers import console_signed_in, form_value, signed_in

MATRIX = Path(__file__).parent.parent / "access_matrix.csv"
RECORD = os.environ.get("TANGGAP_RECORD_ACCESS_MATRIX") == "1"
ROLES = (
    "none",
    "platform",
    "platform_other",
    "flagger",
    "reviewer",
    "reviewer_uncleared",
    "lead",
    "admin",
    "legal",
)
# Roles a later issue adds: their column stays empty until the role exists.
LATER_ROLES: tuple[str, ...] = ()
COLUMNS = ("method", "path", *ROLES, *LATER_ROLES, "note")
# Another platform principal comes after the first: it finds the first one's posts sent.
RUN_ORDER = (
    "none",
    "platform",
    "platform_other",
    "flagger",
    "legal",
    "reviewer_uncleared",
    "reviewer",
    "lead",
    "admin",
)
PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")
LANGUAGES = ("id", "en", "ms")
CSAM = "child_sexual_abuse"
SCAM = "Selamat! Anda memenangkan hadiah undian, kirim kode OTP anda sekarang juga"
PDQ_LINE = "pdq " + "f" * 64 + "\n"
PDF_TYPE = "application/pdf"
# The posts of the decided cases, each with a near-copy elsewhere, for the cascade's rows.
CASCADE = (
    "Selamat! Nomor anda memenangkan hadiah undian mobil dari bank. Kirim kode OTP dan PIN anda "
    "ke admin resmi kami sekarang juga sebelum hangus",
    "Investasi emas digital untung sepuluh persen setiap hari tanpa risiko, transfer modal ke "
    "rekening pribadi admin kami hari ini juga dan ajak teman",
)

# Routes whose calls change a case: each gets a case of its own, prepared as it needs.
OPEN_CASE = ("POST /v1/cases/{case_id}/claim", "POST /console/cases/{case_id}/claim")
HELD_CASE = (
    "POST /v1/cases/{case_id}/release",
    "POST /v1/cases/{case_id}/decision",
    "POST /v1/cases/{case_id}/escalate",
    "POST /v1/cases/{case_id}/objection",
    "POST /console/cases/{case_id}/renew",
    "POST /console/cases/{case_id}/release",
    "POST /console/cases/{case_id}/decide",
    "POST /console/cases/{case_id}/escalate",
)
AWAITING_APPROVAL = ("POST /v1/cases/{case_id}/approval", "POST /console/cases/{case_id}/approval")
DECIDED_CASE = (
    "POST /v1/cases/{case_id}/near-duplicates/apply",
    "POST /console/cases/{case_id}/cascade",
)
OWN_CASE = (*OPEN_CASE, *HELD_CASE, *AWAITING_APPROVAL, *DECIDED_CASE)
# Routes that move a legal request on: each gets a request of its own, in the state it needs.
RECEIVED_REQUEST = (
    "POST /v1/legal/requests/{request_id}/assessment",
    "POST /console/legal/requests/{request_id}/assessment",
)
ASSESSED_REQUEST = (
    "POST /v1/legal/requests/{request_id}/decision",
    "POST /console/legal/requests/{request_id}/decision",
)
ANSWERED_REQUEST = ("GET /v1/legal/requests/{request_id}/letters/{language}",)


def answer_matches(expected: str, status: int) -> bool:
    """Tell whether ``status`` is the expected class (``2xx``) or code (``404``)."""
    if expected.endswith("xx"):
        return status // 100 == int(expected[0])
    return status == int(expected)


def status_class(status: int) -> str:
    """How the table writes an answer: a class for success and redirects, else the code."""
    return f"{status // 100}xx" if status < 400 else str(status)


def live_routes(app: FastAPI) -> list[str]:
    """Every method and path the app answers (HEAD aside, which follows GET; the static files'
    mount has no methods)."""
    keys = []
    for route in iter_route_contexts(app.routes):
        for method in sorted((route.methods or set()) - {"HEAD"}):
            keys.append(f"{method} {route.path}")
    return keys


def read_matrix() -> list[dict[str, str]]:
    """The table's rows, in the order they run."""
    with MATRIX.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames or ()) == COLUMNS, f"{MATRIX.name}: columns {COLUMNS}"
        return list(reader)


@dataclass
class Person:
    """One role: the browser it signs in with (its own cookies) and its API token."""

    browser: TestClient
    token: str | None = None
    area: str | None = None  # "portal" or "console" when the browser is signed in
    session_csrf: str | None = None  # read once per session
    csrf_page: str = "/console/queues"  # a console page this role may open

    def headers(self) -> dict[str, str]:
        """The role's Authorization header (none for the anonymous caller)."""
        return bearer(self.token) if self.token else {}

    def csrf(self) -> str:
        """The CSRF token of the browser's session, or nothing when it is not (or no longer)
        signed in."""
        if self.area is None:
            return ""
        if self.session_csrf is None:
            page = self.browser.get(
                "/portal/submit" if self.area == "portal" else self.csrf_page,
                follow_redirects=False,
            )
            found = page.status_code == 200
            self.session_csrf = form_value(page.text, "csrf_token") if found else ""
        return self.session_csrf


@dataclass
class World:
    """What the rows need: the people, the shared ids, and the ids of each route's own case."""

    people: dict[str, Person]
    values: dict[str, str]
    own: dict[str, dict[str, str]] = field(default_factory=dict)


def token_of(runtime: Runtime, email: str) -> str:
    """Issue an API token for the account signed in with ``email``."""
    with runtime.factory() as session, session.begin():
        principal = reviewers.find_by_email(session=session, email=email)
        assert principal is not None
        return auth.issue_token(session=session, principal=principal).token


def must(answer: Any, *statuses: int) -> dict[str, Any]:
    """Assert an answer's status; return its JSON body."""
    assert answer.status_code in statuses, answer.text
    return dict(answer.json())


def people(app: FastAPI, runtime: Runtime, stack: ExitStack) -> dict[str, Person]:
    """Every role with its own browser; web roles signed in, each with a token of the same
    account."""

    def browser() -> TestClient:
        return stack.enter_context(TestClient(app, raise_server_exceptions=False))

    make_org(runtime, "Cyber Desk A")
    found = {
        "none": Person(browser()),
        "platform": Person(browser(), make_token(runtime, "platform")),
        "platform_other": Person(browser(), make_token(runtime, "platform", name="another")),
    }
    flagger = Person(browser(), area="portal")
    signed_in(flagger.browser, runtime, "Cyber Desk A", "analis@desk-a.example")
    flagger.token = token_of(runtime, "analis@desk-a.example")
    found["flagger"] = flagger
    staff = {
        "reviewer": ("reviewer", CLEARED),
        "reviewer_uncleared": ("reviewer", ()),
        "lead": ("lead", CLEARED),
        "admin": ("admin", CLEARED),
    }
    for name, (role, clearances) in staff.items():
        email = f"{name.replace('_', '.')}@platform.example"
        person = Person(browser(), area="console")
        console_signed_in(person.browser, runtime, email, LANGUAGES, clearances, role)
        person.token = token_of(runtime, email)
        found[name] = person
    legal = Person(browser(), area="console", csrf_page="/console/legal/new")
    officer_signed_in(legal.browser, runtime, "hukum@platform.example")
    legal.token = token_of(runtime, "hukum@platform.example")
    found["legal"] = legal
    return found


def seed(client: TestClient, runtime: Runtime, found: dict[str, Person]) -> World:
    """Fill the database through the API: a restricted (child sexual abuse) case with a thread,
    a decision, an appeal and an action; a user report; a bank and its scan; an organisation's
    spare token; a case of its own for every route in ``OWN_CASE``."""
    platform, flagger = found["platform"].headers(), found["flagger"].headers()
    reviewer, admin = found["reviewer"].headers(), found["admin"].headers()
    decider = bearer(make_reviewer(runtime, "pemutus@platform.example", LANGUAGES, CLEARED))
    media = [{"sha256": "cd" * 32, "url": "https://cdn.example/p/1.jpg"}]
    must(client.post("/v1/posts", json=post_body(text=SCAM, media=media), headers=platform), 201)
    for message_id in range(2, 6 + len(OWN_CASE)):
        key = OWN_CASE[message_id - 6] if message_id >= 6 else ""
        text = f"Pesan nomor {message_id}"
        if key in DECIDED_CASE:
            text = CASCADE[DECIDED_CASE.index(key)]
            copy = post_body(channel="salinan", message_id=message_id, text=f"{text} !!!")
            must(client.post("/v1/posts", json=copy, headers=platform), 201)
        body = post_body(message_id=message_id, text=text)
        must(client.post("/v1/posts", json=body, headers=platform), 201)

    def flag(message_id: int, category: str = CSAM) -> dict[str, Any]:
        target = report_body(f"https://t.me/beritakita/{message_id}", category)
        return must(client.post("/v1/reports", json=target, headers=flagger), 202)

    restricted = flag(1)
    user = report_body("https://t.me/beritakita/2", reporter_id=777, note="Penipuan")
    must(client.post("/v1/reports", json=user, headers=platform), 202)
    appealable = flag(3, "fraud")
    own_reports = {key: flag(6 + index) for index, key in enumerate(OWN_CASE)}
    run_triage(runtime)
    thread = f"/v1/reports/{restricted['report_id']}/messages"
    must(client.post(thread, json={"body": "Mohon segera ditindak."}, headers=flagger), 201)

    def decide(case_id: str, **fields: Any) -> dict[str, Any]:
        must(client.post(f"/v1/cases/{case_id}/claim", headers=decider), 200)
        body = decision_body(**fields)
        return must(client.post(f"/v1/cases/{case_id}/decision", json=body, headers=decider), 201)

    decided = decide(restricted["case_id"])
    decide(appealable["case_id"])
    appeal = {"channel": "beritakita", "message_id": 1, "reason": "It was a real giveaway."}
    appeal_id = must(client.post("/v1/appeals", json=appeal, headers=platform), 201)["appeal_id"]
    bank = {"name": "otp-scams", "category": "fraud", "policy": "review"}
    must(client.post("/v1/banks", json=bank, headers=admin), 201)
    entries = client.post("/v1/banks/otp-scams/entries", json={"texts": [SCAM]}, headers=admin)
    orgs = client.get("/v1/flaggers", headers=admin)
    assert orgs.status_code == 200, orgs.text
    org_id = next(o["org_id"] for o in orgs.json() if o["name"] == "Cyber Desk A")
    spare = must(client.post(f"/v1/flaggers/{org_id}/tokens", json={}, headers=admin), 201)
    with runtime.factory() as session, session.begin():  # as a configured EU database would
        statement = eu_statements.queue(
            session=session,
            decision_id=uuid.UUID(decided["decision_id"]),
            policy=runtime.policy,
        )
        assert statement is not None
        statement_id = str(statement.id)
    world = World(
        people=found,
        values={
            "case_id": str(restricted["case_id"]),
            "report_id": str(restricted["report_id"]),
            "appeal_id": str(appeal_id),
            "action_id": str(decided["actions"][0]["action_id"]),
            "scan_id": str(must(entries, 200)["scan_id"]),
            "name": "otp-scams",
            "org_id": str(org_id),
            "token_id": str(spare["token_id"]),
            "statement_id": statement_id,
            "channel": "beritakita",
            "handle": "beritakita",
            "message_id": "1",
            "position": "0",
        },
    )
    world.values |= legal_requests(client, runtime, found, world)
    for key, receipt in own_reports.items():
        case_id = str(receipt["case_id"])
        world.own[key] = {"case_id": case_id, "report_id": str(receipt["report_id"])}
        if key in HELD_CASE:
            must(client.post(f"/v1/cases/{case_id}/claim", headers=reviewer), 200)
        elif key in AWAITING_APPROVAL:
            decide(case_id, outcome="ban_channel")
        elif key in DECIDED_CASE:
            decide(case_id)
            copies = client.get(f"/v1/cases/{case_id}/near-duplicates", headers=decider)
            assert copies.status_code == 200 and len(copies.json()) == 1, copies.text
            world.own[key]["link_id"] = str(copies.json()[0]["link_id"])
    return world


def legal_requests(
    client: TestClient, runtime: Runtime, found: dict[str, Person], world: World
) -> dict[str, str]:
    """A granted data request (its signed instruction) for the register's reads, and a request
    of its own for each route that moves one on; return the shared values."""
    officer, admin = found["legal"].token or "", found["admin"].headers()

    def made(outcome: str | None = None, assessed: bool = False) -> str:
        request_id = str(must(register(client, officer), 201)["request_id"])
        if assessed or outcome:
            must(step(client, officer, request_id, "assessment", FINDING), 200)
        if outcome:
            answer = client.post(
                f"/v1/legal/requests/{request_id}/decision",
                json={"outcome": outcome},
                headers=admin,
            )
            must(answer, 200)
        return request_id

    kept = runtime.policy
    runtime.policy = kept.model_copy(
        update={"legal": LegalPolicy(data_requests="court_order_suspect")}
    )
    granted = made("grant")
    runtime.policy = kept
    for key in RECEIVED_REQUEST:
        world.own[key] = {"request_id": made()}
    for key in ASSESSED_REQUEST:
        world.own[key] = {"request_id": made(assessed=True)}
    for key in ANSWERED_REQUEST:
        world.own[key] = {"request_id": made("refuse")}
    return {"request_id": granted, "language": "en"}


def body_of(key: str, person: Person, values: dict[str, str]) -> dict[str, Any]:
    """The keyword arguments of a valid minimal request for ``key`` (JSON, form or file)."""
    json_bodies: dict[str, Any] = {
        "POST /v1/channels": {"handle": "kanalbaru", "title": "Kanal baru"},
        "POST /v1/posts": post_body(message_id=900, text="Kabar terbaru"),
        "POST /v1/posts/batch": {"posts": [post_body(message_id=901, text="Kabar lain")]},
        "POST /v1/appeals": {"channel": "beritakita", "message_id": 3, "reason": "A mistake."},
        # A user with no post here: the erasure erases nothing the other rows need.
        "POST /v1/erasures": {"platform_user_id": "user-without-posts"},
        "POST /v1/banks": {"name": "bank-baru", "category": "fraud", "policy": "review"},
        "POST /v1/banks/{name}/entries": {"texts": ["Pinjaman cepat tanpa jaminan hubungi kami"]},
        "POST /v1/reports": report_body("https://t.me/beritakita/4"),
        "POST /v1/reports/bulk": {"reports": [report_body("https://t.me/beritakita/5")]},
        "POST /v1/reports/{report_id}/messages": {"body": "Sedang dicek."},
        "POST /v1/cases/{case_id}/decision": decision_body(),
        "POST /v1/cases/{case_id}/approval": {"approve": True},
        "POST /v1/cases/{case_id}/escalate": {"reason": "Needs a lead's eyes."},
        "POST /v1/cases/{case_id}/near-duplicates/apply": {},
        "POST /v1/cases/{case_id}/objection": {
            "report_id": values["report_id"],
            "reason": "The post is a news report about abuse, not abuse material.",
        },
        "POST /v1/flaggers": {"name": "Hotline B", "country": "MY"},
        "POST /v1/flaggers/{org_id}/members": {"email": "anggota@desk-a.example"},
        "POST /v1/flaggers/{org_id}/tokens": {},
        "POST /v1/legal/requests/{request_id}/assessment": FINDING,
        "POST /v1/legal/requests/{request_id}/decision": {"outcome": "refuse"},
    }
    if key in json_bodies:
        return {"json": json_bodies[key]}
    if key == "POST /v1/legal/requests":
        return {"data": request_fields(), "files": [("documents", ("order.pdf", PDF, PDF_TYPE))]}
    if key == "POST /v1/banks/{name}/import":
        return {"content": PDQ_LINE, "headers": {"Content-Type": "text/plain"}}
    forms: dict[str, dict[str, Any]] = {
        "POST /portal/login": {"email": "tidak.ada@example.org", "password": "salah-sekali-1"},
        "POST /console/login": {"email": "tidak.ada@example.org", "password": "salah-sekali-1"},
        "POST /portal/password": {"current": "salah", "new": "x", "repeat": "x"},
        "POST /console/password": {"current": "salah", "new": "x", "repeat": "x"},
        "POST /portal/language": {"language": "en"},
        "POST /console/language": {"language": "en"},
        "POST /portal/submit": {
            "mode": "single",
            "link": "https://t.me/beritakita/4",
            "category": "fraud",
            "submission_id": "matrix",
        },
        "POST /portal/reports/{report_id}/messages": {"body": "Ada kabar?"},
        "POST /console/pause": {"paused": "false"},
        "POST /console/cases/{case_id}/cascade": {"link_ids": values.get("link_id", "")},
        "POST /console/cases/{case_id}/decide": {
            "outcome": "remove",
            "ground": "terms",
            "policy_ref": "terms/csam",
            "explanation": "The image is known abuse material.",
        },
        "POST /console/cases/{case_id}/approval": {"approve": "true"},
        "POST /console/cases/{case_id}/escalate": {"reason": "Needs a lead's eyes."},
        "POST /console/cases/{case_id}/reports/{report_id}/messages": {"body": "Sedang dicek."},
        "POST /console/legal/requests": {**request_fields(), "pseudonyms": PSEUDONYM},
        "POST /console/legal/requests/{request_id}/assessment": {
            "court_order": "true",
            "finding": "A court order that names no suspect.",
        },
        "POST /console/legal/requests/{request_id}/decision": {"outcome": "refuse"},
    }
    if key.startswith(("POST /portal", "POST /console")):
        form = {**forms.get(key, {}), "csrf_token": person.csrf()}
        if key.endswith("/login"):
            area = key.split("/")[1]
            page = person.browser.get(f"/{area}/login")
            token = form_value(page.text, "login_token") if page.status_code == 200 else ""
            form["login_token"] = token
        return {"data": form}
    return {}


def fill(route: str, values: dict[str, str]) -> str:
    """``route`` with its path parameters replaced by ``values``."""
    return PARAMETER.sub(lambda match: values[match.group(1)], route)


def cells(world: World, rows: list[dict[str, str]]) -> Iterator[tuple[str, str, int]]:
    """Call every row as every role; yield (route, role, status)."""
    for row in rows:
        key = f"{row['method']} {row['path']}"
        values = {**world.values, **world.own.get(key, {})}
        missing = [n for n in PARAMETER.findall(row["path"]) if n not in values]
        assert not missing, f"{key}: no real value for {missing}; add one to seed()"
        path = fill(row["path"], values)
        for role in RUN_ORDER:
            person = world.people[role]
            request = body_of(key, person, values)
            headers = {**person.headers(), **request.pop("headers", {})}
            answer = person.browser.request(
                row["method"], path, headers=headers, follow_redirects=False, **request
            )
            if key.endswith(("/login", "/logout", "/password")):
                person.session_csrf = None  # the session may have changed
            yield key, role, answer.status_code


def record(rows: list[dict[str, str]], live: list[str], got: dict[tuple[str, str], int]) -> None:
    """Write the answers got into the table, keeping its order and notes; new routes go last."""
    known = {f"{r['method']} {r['path']}" for r in rows}
    rows = [r for r in rows if f"{r['method']} {r['path']}" in live]
    rows += [
        {"method": k.split(" ", 1)[0], "path": k.split(" ", 1)[1], "note": ""}
        for k in live
        if k not in known
    ]
    with MATRIX.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            key = f"{row['method']} {row['path']}"
            for role in ROLES:
                if (key, role) in got:
                    row[role] = status_class(got[key, role])
            writer.writerow({c: row.get(c, "") for c in COLUMNS})


def test_every_route_answers_every_role_as_the_matrix_says(
    app: FastAPI, client: TestClient, runtime: Runtime
) -> None:
    """Walk the live route list: no route missing from the table, no row without a route, and
    every role's answer the one written down."""
    rows = read_matrix()
    live = live_routes(app)
    assert len(live) == len(set(live)), "a method and path registered twice"
    listed = [f"{r['method']} {r['path']}" for r in rows]
    assert len(listed) == len(set(listed)), f"{MATRIX.name}: a route listed twice"
    for later in LATER_ROLES:
        filled = [key for key, row in zip(listed, rows, strict=True) if row[later]]
        if later in PRINCIPAL_ROLES:
            assert len(filled) == len(rows), f"the {later} role exists: fill its column"
        else:
            assert not filled, f"no {later} role yet, but its column is filled: {filled}"
    with ExitStack() as stack:
        world = seed(client, runtime, people(app, runtime, stack))
        to_run = [r for r in rows if f"{r['method']} {r['path']}" in live] if RECORD else rows
        got = {(key, role): status for key, role, status in cells(world, to_run)}
    if RECORD:
        record(rows, live, got)
        pytest.skip(f"recorded {len(got)} answers into {MATRIX.name}; review them")
    assert sorted(set(live) - set(listed)) == [], f"routes missing from {MATRIX.name}"
    assert sorted(set(listed) - set(live)) == [], f"rows of {MATRIX.name} without a route"
    wrong = [
        f"{key} as {role}: expected {row[role]}, got {got[key, role]}"
        for key, row in zip(listed, rows, strict=True)
        for role in ROLES
        if not answer_matches(row[role], got[key, role])
    ]
    assert not wrong, "answers other than the matrix says:\n" + "\n".join(wrong)
    assert len(got) == len(rows) * len(ROLES)
