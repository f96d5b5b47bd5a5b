"""Walk every route a flagger can reach; any field outside the allow-list, or any leak, fails."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tanggap.auth.models import Principal
from tanggap.flaggers.models import FlaggerOrg
from tanggap.posts.models import Post
from tanggap.reports.models import Report
from tanggap.runtime import Runtime
from tests.factories import Tokens, bearer, decision_body, post_body, report_body
from tests.portal_helpers import signed_in
from tests.privacy import ALLOWED, TRANSPARENCY, csv_columns, leaks, paths
from tests.transparency_world import (
    SINCE,
    UNTIL,
    ruled,  # noqa: F401
)
from tests.transparency_world import build_world as build_month

GHOST = "00000000-0000-4000-8000-000000000000"


def build_world(client: TestClient, tokens: Tokens) -> dict[str, str]:
    """Two organisations' reports on shared posts, decided, objected to, discussed."""
    for n in (1, 2, 3):
        client.post(
            "/v1/posts",
            json=post_body(message_id=n, author_id=f"author-{n}"),
            headers=bearer(tokens.platform),
        )
    mine = client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger)).json()
    theirs = client.post(
        "/v1/reports", json=report_body(note="org B note"), headers=bearer(tokens.flagger_other_org)
    ).json()
    objected = client.post(
        "/v1/reports", json=report_body("t.me/beritakita/2"), headers=bearer(tokens.flagger)
    ).json()
    client.post(f"/v1/cases/{mine['case_id']}/claim", headers=bearer(tokens.reviewer))
    client.post(
        f"/v1/reports/{mine['report_id']}/messages",
        json={"body": "Dari platform"},
        headers=bearer(tokens.reviewer),
    )
    client.post(
        f"/v1/cases/{mine['case_id']}/decision",
        json=decision_body(),
        headers=bearer(tokens.reviewer),
    )
    client.post(f"/v1/cases/{objected['case_id']}/claim", headers=bearer(tokens.reviewer2))
    client.post(
        f"/v1/cases/{objected['case_id']}/objection",
        json={"report_id": objected["report_id"], "reason": "Ini liputan berita, bukan hoaks."},
        headers=bearer(tokens.reviewer2),
    )
    return {
        "report_id": mine["report_id"],
        "case_id": mine["case_id"],
        "other_report_id": theirs["report_id"],
        "objected_report_id": objected["report_id"],
    }


def never_for_flaggers(runtime: Runtime) -> set[str]:
    """Values no flagger may ever read: author pseudonyms, staff ids and names."""
    with runtime.factory() as session:
        forbidden = set(session.execute(select(Post.author_ref)).scalars())
        staff = session.execute(
            select(Principal.id, Principal.name).where(
                Principal.role.in_(("reviewer", "lead", "admin"))
            )
        ).all()
    return forbidden | {str(pid) for pid, _ in staff} | {name for _, name in staff}


BODIES: dict[str, Any] = {
    "POST /v1/reports": report_body("t.me/beritakita/3"),
    "POST /v1/reports/bulk": {"reports": [report_body("t.me/beritakita/3"), "x"]},
    "POST /v1/reports/{report_id}/messages": {"body": "Terima kasih"},
}


def test_every_flagger_reachable_route_answers_only_allowed_fields(
    app: FastAPI, client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    world = build_world(client, tokens)
    forbidden = never_for_flaggers(runtime)
    forbidden |= {world["other_report_id"], "org B note", "Hotline B", "author-1"}

    reached: set[str] = set()
    # Every documented route (the OpenAPI schema lists them all), each method, as a flagger.
    for route_path, operations in app.openapi()["paths"].items():
        for method in sorted(m.upper() for m in operations):
            name = f"{method} {route_path}"
            path = route_path.format(
                report_id=world["report_id"],
                case_id=world["case_id"],
                org_id=GHOST,
                action_id=GHOST,
                token_id=GHOST,
                appeal_id=GHOST,
                channel="beritakita",
                message_id=1,
                name="no-such-bank",
                scan_id=GHOST,
                request_id=GHOST,
                statement_id=GHOST,
                language="en",
            )
            answer = client.request(
                method, path, json=BODIES.get(name), headers=bearer(tokens.flagger)
            )
            if answer.status_code in (401, 403, 404, 405):
                continue
            assert answer.status_code < 300, (name, answer.status_code, answer.text)
            reached.add(name)
            assert name in ALLOWED, f"{name} is reachable by flaggers but has no allow-list"
            if answer.headers["content-type"].startswith("text/csv"):
                shown, body = csv_columns(answer.text), answer.text
            else:
                shown, body = paths(answer.json()), answer.json()
            extra = shown - ALLOWED[name]
            assert not extra, f"{name} answers fields outside the allow-list: {sorted(extra)}"
            assert not leaks(body, forbidden), (name, leaks(body, forbidden))
    assert reached == set(ALLOWED), f"allow-listed but not reached: {set(ALLOWED) - reached}"
    objected = client.get(
        f"/v1/reports/{world['objected_report_id']}", headers=bearer(tokens.flagger)
    ).json()
    assert objected["status"] == "objected" and not leaks(objected, forbidden)


def test_the_walker_catches_a_field_outside_the_allow_list() -> None:
    answer = {"report_id": "r", "target": {"url": "u", "author_ref": "x"}}
    assert paths(answer) - ALLOWED["GET /v1/reports/{report_id}"] == {"target.author_ref"}
    assert leaks({"note": "by reviewer Budi"}, {"Budi"}) == {"Budi"}


def test_the_portal_and_its_export_leak_nothing(
    app: FastAPI, client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    world = build_world(client, tokens)
    forbidden = never_for_flaggers(runtime)
    forbidden |= {world["other_report_id"], "org B note", "Hotline B"}
    browser = TestClient(app)
    signed_in(browser, runtime, "Cyber Desk A", "analis@desk-a.example")
    for path in (
        "/portal/reports",
        f"/portal/reports/{world['report_id']}",
        f"/portal/reports/{world['report_id']}/status",
        f"/portal/reports/{world['objected_report_id']}",
        "/portal/reports.csv",
        "/portal/submit",
    ):
        page = browser.get(path)
        assert page.status_code == 200, path
        assert not leaks(page.text, forbidden), (path, leaks(page.text, forbidden))


def test_the_public_transparency_report_leaks_nothing(
    ruled: tuple[Runtime, TestClient],  # noqa: F811
    tokens: Tokens,
) -> None:
    runtime, client = ruled
    build_month(runtime, client, tokens)
    forbidden = never_for_flaggers(runtime)
    with runtime.factory() as session:
        forbidden |= set(session.execute(select(Report.reporter_ref)).scalars()) - {None}
        forbidden |= {str(r) for r in session.execute(select(Report.id)).scalars()}
        forbidden |= {str(p) for p in session.execute(select(Principal.id)).scalars()}
        forbidden |= set(session.execute(select(FlaggerOrg.name)).scalars())
        forbidden |= set(session.execute(select(Report.issuing_authority)).scalars()) - {None}
        forbidden |= set(session.execute(select(Post.text)).scalars())
    anonymous = TestClient(client.app)
    month = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}
    report = anonymous.get("/v1/transparency", params=month)
    assert report.status_code == 200 and report.json()["notices"]["received"] == 7
    assert paths(report.json()) <= TRANSPARENCY, paths(report.json()) - TRANSPARENCY
    for path in ("/v1/transparency", "/v1/transparency.csv", "/transparency"):
        for language in ("en", "id"):
            answer = anonymous.get(path, params={**month, "lang": language})
            assert answer.status_code == 200, path
            assert not leaks(answer.text, forbidden), (path, leaks(answer.text, forbidden))
