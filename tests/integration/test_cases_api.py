"""Cases: list by deadline, claim, decide; decisions become actions and settle reports."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tanggap.runtime import Runtime
from tests.factories import (
    REMOVAL_ORDER,
    Tokens,
    bearer,
    decision_body,
    post_body,
    report_body,
    row_counts,
)


def ingest(client: TestClient, tokens: Tokens, message_id: int, **fields: Any) -> None:
    answer = client.post(
        "/v1/posts",
        json=post_body(message_id=message_id, **fields),
        headers=bearer(tokens.platform),
    )
    assert answer.status_code in (200, 201), answer.text


def report(client: TestClient, token: str, message_id: int = 1, **fields: Any) -> dict[str, Any]:
    answer = client.post(
        "/v1/reports",
        json=report_body(target=f"https://t.me/beritakita/{message_id}", **fields),
        headers=bearer(token),
    )
    assert answer.status_code == 202, answer.text
    return answer.json()


@pytest.fixture
def case(client: TestClient, tokens: Tokens) -> dict[str, Any]:
    ingest(client, tokens, 1)
    return report(client, tokens.flagger)


def claim(client: TestClient, token: str, case_id: str) -> Any:
    return client.post(f"/v1/cases/{case_id}/claim", headers=bearer(token))


def decide(client: TestClient, token: str, case_id: str, **body: Any) -> Any:
    return client.post(
        f"/v1/cases/{case_id}/decision", json=decision_body(**body), headers=bearer(token)
    )


def test_open_cases_are_listed_earliest_deadline_first(client: TestClient, tokens: Tokens) -> None:
    for message_id in (1, 2, 3):
        ingest(client, tokens, message_id)
    relaxed = report(client, tokens.platform, 1, category="other")  # 72 h
    urgent = report(client, tokens.flagger, 2, category="terrorism")  # 4 h
    order = report(client, tokens.flagger, 3, category="fraud", **REMOVAL_ORDER)  # 1 h
    listed = client.get("/v1/cases", headers=bearer(tokens.reviewer)).json()
    assert [c["case_id"] for c in listed["cases"]] == [
        order["case_id"],
        urgent["case_id"],
        relaxed["case_id"],
    ]
    assert listed["total"] == 3
    only = client.get("/v1/cases?category=terrorism", headers=bearer(tokens.reviewer)).json()
    assert [c["case_id"] for c in only["cases"]] == [urgent["case_id"]]
    assert client.get("/v1/cases?language=id", headers=bearer(tokens.reviewer)).json()["total"] == 3
    assert client.get("/v1/cases?language=en", headers=bearer(tokens.reviewer)).json()["total"] == 0
    assert (
        client.get("/v1/cases?language=und", headers=bearer(tokens.reviewer)).json()["total"] == 0
    )
    assert client.get("/v1/cases?language=ms", headers=bearer(tokens.reviewer)).json()["total"] == 0
    page = client.get("/v1/cases?limit=1&offset=1", headers=bearer(tokens.reviewer)).json()
    assert [c["case_id"] for c in page["cases"]] == [urgent["case_id"]]


def test_case_list_filters_are_checked(client: TestClient, tokens: Tokens) -> None:
    for query, field in [
        ("state=lost", "state.0"),
        ("category=jaywalking", "category"),
        ("limit=0", "limit"),
        ("language=Indonesian", "language"),
    ]:
        answer = client.get(f"/v1/cases?{query}", headers=bearer(tokens.reviewer))
        assert answer.status_code == 422, query
        assert answer.json()["error"]["field"] == field


@pytest.mark.parametrize("role", ["platform", "flagger"])
def test_cases_are_for_staff_only(client: TestClient, tokens: Tokens, role: str) -> None:
    assert client.get("/v1/cases", headers=bearer(getattr(tokens, role))).status_code == 403


def test_reviewers_see_the_author_pseudonym_but_flaggers_never_do(
    client: TestClient, tokens: Tokens, case: dict[str, Any]
) -> None:
    seen = client.get(f"/v1/cases/{case['case_id']}", headers=bearer(tokens.reviewer)).json()
    assert len(seen["post"]["author_ref"]) == 64
    shown = client.get(f"/v1/reports/{case['report_id']}", headers=bearer(tokens.flagger)).text
    assert seen["post"]["author_ref"] not in shown


def test_claim_then_remove_takes_the_post_down_and_actions_the_report(
    client: TestClient, tokens: Tokens, case: dict[str, Any]
) -> None:
    claimed = claim(client, tokens.reviewer, case["case_id"])
    assert claimed.status_code == 200 and claimed.json()["state"] == "in_review"
    status = client.get(f"/v1/reports/{case['report_id']}", headers=bearer(tokens.flagger))
    assert status.json()["status"] == "in_review"

    decided = decide(client, tokens.reviewer, case["case_id"])
    assert decided.status_code == 201, decided.text
    [action] = decided.json()["actions"]
    assert action["kind"] == "remove_post" and action["state"] == "delivered"

    shown = client.get(f"/v1/reports/{case['report_id']}", headers=bearer(tokens.flagger)).json()
    assert shown["status"] == "actioned"
    assert shown["outcome"] == "remove"
    assert shown["explanation"] == decision_body()["explanation"]
    assert shown["decided_at"] is not None
    page = client.get("/c/beritakita/1")
    assert page.status_code == 410
    assert "This post was removed" in page.text and "Fraud and scams" in page.text


def test_no_violation_declines_and_touches_nothing_on_the_platform(
    client: TestClient, tokens: Tokens, case: dict[str, Any], runtime: Runtime
) -> None:
    claim(client, tokens.reviewer, case["case_id"])
    decided = decide(client, tokens.reviewer, case["case_id"], outcome="no_violation")
    assert decided.status_code == 201 and decided.json()["actions"] == []
    shown = client.get(f"/v1/reports/{case['report_id']}", headers=bearer(tokens.flagger)).json()
    assert shown["status"] == "declined" and shown["outcome"] == "no_violation"
    assert client.get("/c/beritakita/1").status_code == 200
    # A new report on a post once found fine reopens the case with a fresh clock.
    again = report(client, tokens.flagger_other_org, category="drugs")
    assert again["case_id"] == case["case_id"]
    reopened = client.get(f"/v1/cases/{case['case_id']}", headers=bearer(tokens.reviewer)).json()
    assert reopened["state"] == "open" and reopened["deadline"] == again["deadline"]


def test_a_report_on_a_post_already_removed_is_actioned_at_once(
    client: TestClient, tokens: Tokens, case: dict[str, Any]
) -> None:
    claim(client, tokens.reviewer, case["case_id"])
    decide(client, tokens.reviewer, case["case_id"])
    late = report(client, tokens.flagger_other_org)
    assert late["case_id"] == case["case_id"] and late["status"] == "actioned"


def test_geo_restriction_hides_the_post_only_where_listed(
    client: TestClient, tokens: Tokens, case: dict[str, Any]
) -> None:
    claim(client, tokens.reviewer, case["case_id"])
    decided = decide(
        client,
        tokens.reviewer,
        case["case_id"],
        outcome="geo_restrict",
        countries=["id", "MY"],
        ground="law",
        policy_ref="UU ITE Pasal 27",
    )
    assert decided.status_code == 201 and decided.json()["countries"] == ["ID", "MY"]
    hidden = client.get("/c/beritakita/1?country=ID")
    assert hidden.status_code == 451 and "not available in your country" in hidden.text
    via_header = client.get("/c/beritakita/1", headers={"X-Viewer-Country": "my"})
    assert via_header.status_code == 451
    elsewhere = client.get("/c/beritakita/1?country=DE")
    assert elsewhere.status_code == 200 and "Halo semua" in elsewhere.text
    assert "Halo semua" not in client.get("/c/beritakita?country=ID").text
    assert "Halo semua" in client.get("/c/beritakita?country=SG").text


def test_ban_channel_makes_the_channel_unavailable(
    client: TestClient, tokens: Tokens, case: dict[str, Any]
) -> None:
    claim(client, tokens.reviewer, case["case_id"])
    decided = decide(client, tokens.reviewer, case["case_id"], outcome="ban_channel")
    assert decided.json()["state"] == "pending_approval"  # four eyes
    approved = client.post(
        f"/v1/cases/{case['case_id']}/approval",
        json={"approve": True},
        headers=bearer(tokens.reviewer2),
    )
    assert approved.json()["actions"][0]["kind"] == "ban_channel"
    for path in ("/c/beritakita", "/c/beritakita/1"):
        page = client.get(path)
        assert page.status_code == 410 and "is unavailable" in page.text


def test_ban_member_is_refused_on_the_builtin_pages_and_over_http(
    client: TestClient, tokens: Tokens, case: dict[str, Any], runtime: Runtime
) -> None:
    claim(client, tokens.reviewer, case["case_id"])
    before = row_counts(runtime)
    for platform in ("builtin", "http"):
        with runtime.engine.begin() as conn:
            conn.execute(text("UPDATE channels SET platform = :p"), {"p": platform})
        refused = decide(client, tokens.reviewer, case["case_id"], outcome="ban_member")
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["field"] == "outcome"
        assert "only a Telegram group's member can be banned" in error["message"]
    assert row_counts(runtime) == before


def test_a_claimed_case_cannot_be_taken_or_decided_by_another_reviewer(
    client: TestClient, tokens: Tokens, case: dict[str, Any], runtime: Runtime
) -> None:
    assert claim(client, tokens.reviewer, case["case_id"]).status_code == 200
    taken = claim(client, tokens.reviewer2, case["case_id"])
    assert taken.status_code == 409 and "claimed by another reviewer" in taken.text
    before = row_counts(runtime)
    stolen = decide(client, tokens.reviewer2, case["case_id"])
    assert stolen.status_code == 409
    assert stolen.json()["error"]["code"] == "not_claimed"
    assert row_counts(runtime) == before
    assert claim(client, tokens.reviewer, case["case_id"]).status_code == 200  # renews


def test_deciding_without_a_claim_is_refused(
    client: TestClient, tokens: Tokens, case: dict[str, Any], runtime: Runtime
) -> None:
    before = row_counts(runtime)
    answer = decide(client, tokens.reviewer, case["case_id"])
    assert answer.status_code == 409 and answer.json()["error"]["field"] == "case_id"
    assert row_counts(runtime) == before


def test_an_expired_claim_returns_the_case_to_the_queue(
    client: TestClient, tokens: Tokens, case: dict[str, Any], runtime: Runtime
) -> None:
    claim(client, tokens.reviewer, case["case_id"])
    with runtime.engine.begin() as conn:
        conn.execute(
            text("UPDATE cases SET lease_expires_at = :past"),
            {"past": "2000-01-01 00:00:00"},
        )
    assert decide(client, tokens.reviewer, case["case_id"]).status_code == 409
    assert claim(client, tokens.reviewer2, case["case_id"]).status_code == 200


def test_release_gives_the_case_back(
    client: TestClient, tokens: Tokens, case: dict[str, Any]
) -> None:
    claim(client, tokens.reviewer, case["case_id"])
    assert (
        client.post(f"/v1/cases/{case['case_id']}/release", headers=bearer(tokens.reviewer2))
    ).status_code == 409
    released = client.post(f"/v1/cases/{case['case_id']}/release", headers=bearer(tokens.reviewer))
    assert released.status_code == 200 and released.json()["claimed_by"] is None
    assert claim(client, tokens.reviewer2, case["case_id"]).status_code == 200


def test_a_decided_case_cannot_be_claimed_or_decided_again(
    client: TestClient, tokens: Tokens, case: dict[str, Any]
) -> None:
    claim(client, tokens.reviewer, case["case_id"])
    assert decide(client, tokens.reviewer, case["case_id"]).status_code == 201
    assert claim(client, tokens.reviewer, case["case_id"]).status_code == 409
    assert decide(client, tokens.reviewer, case["case_id"]).status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "delete"}, "outcome"),
        ({"outcome": "geo_restrict"}, "countries"),
        ({"outcome": "geo_restrict", "countries": ["Indonesia"]}, "countries.0"),
        ({"countries": ["ID"]}, "countries"),
        ({"ground": "vibes"}, "ground"),
        ({"ground": None}, "ground"),
        ({"policy_ref": None}, "policy_ref"),
        ({"explanation": ""}, "explanation"),
        ({"category": "jaywalking"}, "category"),
        ({"reviewer_name": "Budi"}, "reviewer_name"),
    ],
)
def test_bad_decisions_are_refused_naming_the_field(
    client: TestClient,
    tokens: Tokens,
    case: dict[str, Any],
    runtime: Runtime,
    body: dict[str, Any],
    field: str,
) -> None:
    claim(client, tokens.reviewer, case["case_id"])
    before = row_counts(runtime)
    answer = decide(client, tokens.reviewer, case["case_id"], **body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert row_counts(runtime) == before


def test_unknown_cases_are_404(client: TestClient, tokens: Tokens) -> None:
    ghost = "00000000-0000-4000-8000-000000000000"
    for path in (f"/v1/cases/{ghost}/claim", f"/v1/cases/{ghost}/release"):
        assert client.post(path, headers=bearer(tokens.reviewer)).status_code == 404
    assert decide(client, tokens.reviewer, ghost).status_code == 404
    assert client.get(f"/v1/cases/{ghost}", headers=bearer(tokens.reviewer)).status_code == 404


def test_a_removal_order_on_a_geo_restricted_post_reopens_its_case(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    ingest(client, tokens, 1)
    user = report(client, tokens.platform, category="hate_speech")
    claim(client, tokens.reviewer, user["case_id"])
    decide(
        client, tokens.reviewer, user["case_id"],
        outcome="geo_restrict", countries=["DE"], ground="law", policy_ref="NetzDG",
    )  # fmt: skip
    order = report(client, tokens.flagger, category="terrorism", **REMOVAL_ORDER)
    assert order["case_id"] == user["case_id"] and order["status"] == "received"
    case = client.get(f"/v1/cases/{order['case_id']}", headers=bearer(tokens.reviewer)).json()
    assert case["state"] == "open" and case["deadline"] == order["deadline"]
    assert client.get("/c/beritakita/1?country=ID").status_code == 200  # still up: not settled


def test_each_report_shows_the_decision_that_settled_it(
    client: TestClient, tokens: Tokens, case: dict[str, Any]
) -> None:
    claim(client, tokens.reviewer, case["case_id"])
    decide(client, tokens.reviewer, case["case_id"], outcome="no_violation")
    later = report(client, tokens.flagger_other_org, category="drugs")
    claim(client, tokens.reviewer2, later["case_id"])
    decide(client, tokens.reviewer2, later["case_id"], policy_ref="terms/drugs")
    first = client.get(f"/v1/reports/{case['report_id']}", headers=bearer(tokens.flagger)).json()
    second = client.get(
        f"/v1/reports/{later['report_id']}", headers=bearer(tokens.flagger_other_org)
    ).json()
    assert (first["status"], first["outcome"]) == ("declined", "no_violation")
    assert (second["status"], second["outcome"], second["policy_ref"]) == (
        "actioned",
        "remove",
        "terms/drugs",
    )


def test_huge_offsets_and_nul_explanations_are_refused(
    client: TestClient, tokens: Tokens, case: dict[str, Any]
) -> None:
    answer = client.get("/v1/cases?offset=100000000000000000000", headers=bearer(tokens.reviewer))
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "offset"
    claim(client, tokens.reviewer, case["case_id"])
    bad = decide(client, tokens.reviewer, case["case_id"], explanation="ok\x00")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "explanation"


def test_the_state_filter_takes_every_documented_value(
    client: TestClient, tokens: Tokens, case: dict[str, Any]
) -> None:
    """``closed`` and ``appealed`` are documented filter values no case reaches: they match
    nothing (never a server error); the reachable states filter as before."""
    staff = bearer(tokens.reviewer)
    for states in ("state=closed", "state=appealed&state=closed"):
        answer = client.get(f"/v1/cases?{states}", headers=staff)
        assert answer.status_code == 200 and answer.json()["total"] == 0, answer.text
    both = client.get("/v1/cases?state=open&state=closed", headers=staff).json()
    assert [c["case_id"] for c in both["cases"]] == [case["case_id"]]
    wrong = client.get("/v1/cases?state=shut", headers=staff)
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "state.0"
