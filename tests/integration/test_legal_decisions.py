"""How the register answers: every data request refused under ``no_disclosure`` (letters in
Bahasa Indonesia and English); under ``court_order_suspect`` a court order naming a suspect is
granted by a second person, as a signed instruction naming the pseudonyms; removal requests
follow their reports' decisions; preservation requests get a letter. Every step is audited."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tanggap.audit.models import AuditEvent
from tanggap.audit.signing import public_hex
from tanggap.legal.instruction import holds
from tanggap.policy.schemas import LegalPolicy
from tanggap.runtime import Runtime
from tests.factories import Tokens, bearer, decision_body, reported_case, row_counts, run_triage
from tests.legal_helpers import (
    FINDING,
    OTHER_PSEUDONYM,
    PSEUDONYM,
    make_officer,
    register,
    step,
)


@pytest.fixture
def officers(runtime: Runtime) -> tuple[str, str]:
    """Two legal officers' tokens."""
    return (
        make_officer(runtime, "hukum.satu@platform.example"),
        make_officer(runtime, "hukum.dua@platform.example"),
    )


def court_order_suspect(runtime: Runtime) -> None:
    """Run under Telegram's September 2024 policy."""
    legal = LegalPolicy(data_requests="court_order_suspect")
    runtime.policy = runtime.policy.model_copy(update={"legal": legal})


def actions(runtime: Runtime, request_id: str) -> list[tuple[str, dict[str, object]]]:
    """The audit events of a request, oldest first."""
    with runtime.factory() as session:
        events = session.execute(
            select(AuditEvent).where(AuditEvent.subject_id == request_id).order_by(AuditEvent.id)
        ).scalars()
        return [(e.action, json.loads(e.data)) for e in events]


def test_no_disclosure_refuses_every_data_request_with_two_letters(
    client: TestClient, runtime: Runtime, officers: tuple[str, str]
) -> None:
    first, _ = officers
    request_id = register(client, first, pseudonyms=[PSEUDONYM, OTHER_PSEUDONYM]).json()[
        "request_id"
    ]
    assessed = step(client, first, request_id, "assessment", FINDING)
    assert assessed.status_code == 200 and assessed.json()["state"] == "assessed"
    granted = step(client, first, request_id, "decision", {"outcome": "grant"})
    assert granted.status_code == 422 and granted.json()["error"]["field"] == "outcome"
    assert "no_disclosure" in granted.json()["error"]["message"]
    refused = step(client, first, request_id, "decision", {"outcome": "refuse"})
    assert refused.status_code == 200, refused.text
    body = refused.json()
    assert body["state"] == "refused" and body["policy"] == "no_disclosure"
    assert body["letters"] == ["en", "id"] and body["instruction"] is False
    english = client.get(f"/v1/legal/requests/{request_id}/letters/en", headers=bearer(first))
    indonesian = client.get(f"/v1/legal/requests/{request_id}/letters/id", headers=bearer(first))
    for letter in (english, indonesian):
        assert letter.status_code == 200
        assert letter.headers["content-type"].startswith("text/plain")
        assert letter.headers["Digest-SHA256"] == hashlib.sha256(letter.content).hexdigest()
        text = letter.text
        assert "Bareskrim Polri" in text and "B/1234/XII/2026/Dittipidsiber" in text
        assert "2026-12-01" in text and "no_disclosure" in text
        assert PSEUDONYM not in text and OTHER_PSEUDONYM not in text
    assert "No personal data about the accounts you named (2 accounts)" in english.text
    assert "Tidak ada data pribadi tentang akun-akun yang Anda sebutkan (2 akun)" in indonesian.text
    missing = client.get(f"/v1/legal/requests/{request_id}/instruction", headers=bearer(first))
    assert missing.status_code == 404
    assert (
        client.get(f"/v1/legal/requests/{request_id}/letters/fr", headers=bearer(first)).status_code
        == 404
    )
    steps = actions(runtime, request_id)
    assert [action for action, _ in steps] == [
        "legal.request_registered",
        "legal.request_assessed",
        "legal.request_refused",
    ]
    assert steps[2][1]["letters"] == {
        "en": english.headers["Digest-SHA256"],
        "id": indonesian.headers["Digest-SHA256"],
    }


def test_a_court_order_naming_a_suspect_is_granted_by_a_second_person(
    client: TestClient, runtime: Runtime, officers: tuple[str, str], tokens: Tokens
) -> None:
    court_order_suspect(runtime)
    first, second = officers
    request_id = register(client, first).json()["request_id"]
    assert step(client, first, request_id, "assessment", FINDING).status_code == 200
    before = row_counts(runtime)
    own = step(client, first, request_id, "decision", {"outcome": "grant"})
    assert own.status_code == 403 and "four eyes" in own.json()["error"]["message"]
    assert row_counts(runtime) == before
    granted = step(client, second, request_id, "decision", {"outcome": "grant"})
    assert granted.status_code == 200, granted.text
    assert granted.json()["state"] == "granted" and granted.json()["letters"] == []
    again = step(client, second, request_id, "decision", {"outcome": "grant"})
    assert again.status_code == 409
    by_admin = step(client, tokens.admin, request_id, "decision", {"outcome": "refuse"})
    assert by_admin.status_code == 409
    signed = client.get(f"/v1/legal/requests/{request_id}/instruction", headers=bearer(first))
    assert signed.status_code == 200, signed.text
    instruction = signed.json()
    document = instruction["document"]
    assert document["type"] == "tanggap.legal.instruction"
    assert document["pseudonyms"] == [PSEUDONYM] and document["request_id"] == request_id
    assert document["country"] == "ID"
    public = public_hex(runtime.checkpoint_key)
    assert holds(public, instruction["canonical"], instruction["signature"])
    forged = instruction["canonical"].replace(PSEUDONYM, OTHER_PSEUDONYM)
    assert not holds(public, forged, instruction["signature"])
    assert json.loads(instruction["canonical"]) == document
    steps = actions(runtime, request_id)
    assert steps[-1][0] == "legal.request_granted"
    digest = hashlib.sha256(instruction["canonical"].encode()).hexdigest()
    assert steps[-1][1]["instruction_sha256"] == digest


@pytest.mark.parametrize(
    ("finding", "pseudonyms"),
    [
        ({**FINDING, "court_order": False}, [PSEUDONYM]),
        ({**FINDING, "names_suspect": False}, [PSEUDONYM]),
        (FINDING, []),
    ],
    ids=["not a court order", "no suspect named", "no pseudonym named"],
)
def test_anything_else_is_refused_under_court_order_suspect(
    client: TestClient,
    runtime: Runtime,
    officers: tuple[str, str],
    finding: dict[str, object],
    pseudonyms: list[str],
) -> None:
    court_order_suspect(runtime)
    first, second = officers
    request_id = register(client, first, pseudonyms=pseudonyms).json()["request_id"]
    assert step(client, first, request_id, "assessment", finding).status_code == 200
    granted = step(client, second, request_id, "decision", {"outcome": "grant"})
    assert granted.status_code == 422 and granted.json()["error"]["field"] == "outcome"
    refused = step(client, second, request_id, "decision", {"outcome": "refuse"})
    assert refused.status_code == 200 and refused.json()["state"] == "refused"
    letter = client.get(f"/v1/legal/requests/{request_id}/letters/en", headers=bearer(first))
    assert "court_order_suspect" in letter.text


def test_steps_follow_the_states(
    client: TestClient, runtime: Runtime, officers: tuple[str, str]
) -> None:
    first, _ = officers
    request_id = register(client, first).json()["request_id"]
    early = step(client, first, request_id, "decision", {"outcome": "refuse"})
    assert early.status_code == 409
    keyed = {**bearer(first), "Idempotency-Key": "assessment-1"}
    url = f"/v1/legal/requests/{request_id}/assessment"
    assert client.post(url, json=FINDING, headers=keyed).status_code == 200
    replayed = client.post(url, json=FINDING, headers=keyed)
    assert replayed.status_code == 200 and replayed.headers["Idempotent-Replayed"] == "true"
    twice = step(client, first, request_id, "assessment", FINDING)
    assert twice.status_code == 409
    wrong = step(client, first, request_id, "decision", {"outcome": "answer"})
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "outcome"
    unknown = step(client, first, "6f1d0c5e-8c1e-4a53-9d0e-3b2f7a1c9e10", "assessment", FINDING)
    assert unknown.status_code == 404
    no_finding = step(client, first, request_id, "assessment", {"court_order": True})
    assert no_finding.status_code == 422


def test_a_removal_request_follows_the_decisions_on_its_reports(
    client: TestClient, runtime: Runtime, officers: tuple[str, str], tokens: Tokens
) -> None:
    first, _ = officers
    removed = reported_case(client, tokens, message_id=1)
    kept = reported_case(client, tokens, message_id=2)
    run_triage(runtime)
    for case_id, outcome in ((removed, "remove"), (kept, "no_violation")):
        claimed = client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
        assert claimed.status_code == 200, claimed.text
        decided = client.post(
            f"/v1/cases/{case_id}/decision",
            json=decision_body(outcome),
            headers=bearer(tokens.reviewer),
        )
        assert decided.status_code == 201, decided.text
    reports = client.get("/v1/reports", headers=bearer(tokens.flagger)).json()["reports"]
    report_of = {r["case_id"]: r["report_id"] for r in reports}
    request = register(
        client,
        first,
        kind="content_removal",
        pseudonyms=[],
        links=["https://t.me/beritakita/1", "https://t.me/beritakita/2"],
        report_ids=[report_of[removed], report_of[kept]],
    )
    assert request.status_code == 201, request.text
    request_id = request.json()["request_id"]
    outcomes = {link["case_id"]: link["outcome"] for link in request.json()["links"]}
    assert outcomes == {removed: "actioned", kept: "declined"}
    finding = {"court_order": False, "names_suspect": False, "finding": "A ministry's order."}
    assert step(client, first, request_id, "assessment", finding).status_code == 200
    refused = step(client, first, request_id, "decision", {"outcome": "refuse"})
    assert refused.status_code == 422
    answered = step(client, first, request_id, "decision", {"outcome": "answer"})
    assert answered.status_code == 200 and answered.json()["state"] == "answered"
    letter = client.get(f"/v1/legal/requests/{request_id}/letters/en", headers=bearer(first))
    assert f"report {report_of[removed]}: removed or restricted" in letter.text
    assert f"report {report_of[kept]}: reviewed; no violation found" in letter.text


def test_a_preservation_request_is_answered_with_what_tanggap_keeps(
    client: TestClient, runtime: Runtime, officers: tuple[str, str]
) -> None:
    first, _ = officers
    request_id = register(client, first, kind="preservation").json()["request_id"]
    finding = {"court_order": True, "names_suspect": False, "finding": "Preservation order."}
    assert step(client, first, request_id, "assessment", finding).status_code == 200
    answered = step(client, first, request_id, "decision", {"outcome": "answer"})
    assert answered.status_code == 200 and answered.json()["state"] == "answered"
    english = client.get(f"/v1/legal/requests/{request_id}/letters/en", headers=bearer(first))
    assert "keeps no personal data of users" in english.text
    indonesian = client.get(f"/v1/legal/requests/{request_id}/letters/id", headers=bearer(first))
    assert "tidak menyimpan data pribadi pengguna" in indonesian.text


def test_the_list_filters_by_kind_country_state_and_time(
    client: TestClient, runtime: Runtime, officers: tuple[str, str]
) -> None:
    first, _ = officers
    made = {
        "id_data": register(client, first, received_at="2026-11-01T10:00:00+07:00"),
        "my_data": register(client, first, country="MY", received_at="2026-11-15T10:00:00Z"),
        "id_keep": register(client, first, kind="preservation", received_at="2026-11-20T10:00:00Z"),
    }
    ids = {name: answer.json()["request_id"] for name, answer in made.items()}
    assert step(client, first, ids["my_data"], "assessment", FINDING).status_code == 200

    def listed(**query: str) -> list[str]:
        answer = client.get("/v1/legal/requests", params=query, headers=bearer(first))
        assert answer.status_code == 200, answer.text
        names = {v: k for k, v in ids.items()}
        return [names[r["request_id"]] for r in answer.json()]

    assert listed() == ["id_keep", "my_data", "id_data"]
    assert listed(kind="user_data") == ["my_data", "id_data"]
    assert listed(country="id") == ["id_keep", "id_data"]
    assert listed(state="assessed") == ["my_data"]
    assert listed(since="2026-11-10T00:00:00Z", until="2026-11-20T10:00:00Z") == ["my_data"]
    backwards = client.get(
        "/v1/legal/requests",
        params={"since": "2026-11-20T00:00:00Z", "until": "2026-11-10T00:00:00Z"},
        headers=bearer(first),
    )
    assert backwards.status_code == 422 and backwards.json()["error"]["field"] == "until"
    for query, field in (
        ({"country": "IDN"}, "country"),
        ({"kind": "wiretap"}, "kind"),
        ({"since": "2026-11-10T00:00:00"}, "since"),
    ):
        answer = client.get("/v1/legal/requests", params=query, headers=bearer(first))
        assert answer.status_code == 422 and answer.json()["error"]["field"] == field, query
    assert datetime.now(UTC).year >= 2026
