"""Statements of reasons go to the EU Transparency Database: queued with the decision, sent by
the worker's job in batches of at most 100 to a stand-in that validates like the real API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from tanggap import jobs
from tanggap.cases import service as cases
from tanggap.config import Settings
from tanggap.db import wake
from tanggap.db.base import utcnow
from tanggap.eu_database.fields import EEA
from tanggap.eu_database.models import EuStatement
from tanggap.review.decisions import decide_automatically
from tanggap.runtime import Runtime, build_runtime
from tanggap.server import create_app
from tests.eu_standin import TOKEN, Database, serve
from tests.factories import (
    POSTED_AT,
    REMOVAL_ORDER,
    Tokens,
    bearer,
    decision_body,
    make_tokens,
    reported_case,
    seed_cases,
)

LATER = timedelta(hours=2)


@pytest.fixture
def eu() -> Iterator[Database]:
    with serve() as database:
        yield database


def eu_settings(settings: Settings, eu: Database, **more: Any) -> Settings:
    return settings.model_copy(
        update={
            "eu_database_url": eu.url,
            "eu_database_token": SecretStr(TOKEN),
            "eu_database_retry_seconds": 1.0,
            "eu_database_timeout_seconds": 5.0,
            **more,
        }
    )


@pytest.fixture
def eu_runtime(settings: Settings, eu: Database) -> Iterator[Runtime]:
    runtime = build_runtime(eu_settings(settings, eu))
    yield runtime
    runtime.close()


@pytest.fixture
def eu_client(eu_runtime: Runtime) -> Iterator[TestClient]:
    app = create_app(runtime=eu_runtime, run_dispatcher=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def worker_round(runtime: Runtime, http: httpx.Client) -> int:
    """Run the worker's statement job once, as its thread would."""
    [job] = [j for j in jobs.background_jobs(runtime, http) if j.name == wake.EU_STATEMENTS]
    return job.run_once()


def decide(
    client: TestClient,
    tokens: Tokens,
    message_id: int,
    report: dict[str, str] | None = None,
    **fields: Any,
) -> str:
    """Report (a flagger's notice unless ``report`` says more), claim and decide a fraud post;
    return the decision's id."""
    case_id = reported_case(client, tokens, message_id=message_id, **(report or {}))
    assert client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer)).is_success
    answer = client.post(
        f"/v1/cases/{case_id}/decision",
        json=decision_body(**fields),
        headers=bearer(tokens.reviewer),
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["decision_id"])


def decide_seeded(runtime: Runtime, count: int, **ruling: Any) -> list[str]:
    """Decide ``count`` reported posts automatically (detection's path): geo-restricted in
    Germany, France and Indonesia unless said otherwise (a restriction attaches no near-copies,
    whose search would take most of the time); return the puids."""
    case_ids = seed_cases(runtime, count)
    decided = []
    with runtime.factory() as session, session.begin():
        for case_id in case_ids:
            result = decide_automatically(
                session=session,
                case=cases.lock(session=session, case_id=uuid.UUID(case_id)),
                outcome=ruling.get("outcome", "geo_restrict"),
                countries=ruling.get("countries", ["DE", "FR", "ID"]),
                policy_ref="terms/fraud",
                explanation="A fake prize that asks for banking codes.",
                actor="detection",
                policy=runtime.policy,
                notifier=runtime.notifier,
            )
            decided.append(f"tanggap-decision-{result.decision.id}")
    return decided


def rows(runtime: Runtime) -> list[EuStatement]:
    with runtime.factory() as session:
        return list(session.execute(select(EuStatement).order_by(EuStatement.created_at)).scalars())


def test_decided_cases_reach_the_database_with_their_fields(
    eu: Database, eu_runtime: Runtime, eu_client: TestClient, http: httpx.Client
) -> None:
    tokens = make_tokens(eu_runtime)
    removed = decide(eu_client, tokens, 1)
    decide(eu_client, tokens, 2, outcome="no_violation")
    decide(eu_client, tokens, 3, outcome="geo_restrict", countries=["ID"], ground="law")
    geo = decide(eu_client, tokens, 4, outcome="geo_restrict", countries=["DE", "ID"], ground="law")
    ordered = decide(eu_client, tokens, 5, REMOVAL_ORDER, ground="law")

    assert worker_round(eu_runtime, http) == 3
    assert eu.posts == [3]  # no_violation and a restriction outside the EEA take none
    held = eu.stored[f"tanggap-decision-{removed}"]
    assert held["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert held["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert held["incompatible_content_ground"] == "terms/fraud"
    assert held["incompatible_content_explanation"].startswith("The post offers a fake prize")
    assert held["category"] == "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"
    assert held["category_specification"] == ["KEYWORD_PHISHING"]
    assert held["content_type"] == ["CONTENT_TYPE_TEXT"]
    assert held["source_type"] == "SOURCE_TRUSTED_FLAGGER"
    assert (held["automated_detection"], held["automated_decision"]) == (
        "No",
        "AUTOMATED_DECISION_NOT_AUTOMATED",
    )
    assert sorted(held["territorial_scope"]) == sorted(EEA)
    assert held["content_date"] == POSTED_AT.date().isoformat()
    assert held["application_date"] == utcnow().date().isoformat()
    assert held["end_date_visibility_restriction"] is None
    legal = eu.stored[f"tanggap-decision-{geo}"]
    assert legal["territorial_scope"] == ["DE"]
    assert legal["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert legal["illegal_content_legal_ground"] == "terms/fraud"
    assert eu.stored[f"tanggap-decision-{ordered}"]["source_type"] == (
        "SOURCE_TYPE_OTHER_NOTIFICATION"
    )  # an authority's removal order
    # The public statement says the same as the database's.
    public = eu_client.get("/v1/posts/beritakita/1/statement", headers=bearer(tokens.platform))
    assert public.json()["source_type"] == held["source_type"]

    sent = eu_client.get("/v1/eu-statements?state=sent", headers=bearer(tokens.admin)).json()
    assert {s["puid"] for s in sent} == set(eu.stored)
    assert all(s["eu_uuid"] == eu.stored[s["puid"]]["uuid"] for s in sent)
    assert worker_round(eu_runtime, http) == 0 and eu.posts == [3]  # nothing sent twice


def test_150_decisions_go_in_two_calls(
    eu: Database, eu_runtime: Runtime, http: httpx.Client
) -> None:
    puids = decide_seeded(eu_runtime, 150)
    assert worker_round(eu_runtime, http) == 150
    assert eu.posts == [100, 50]
    assert set(eu.stored) == set(puids)
    held = eu.stored[puids[0]]
    assert held["territorial_scope"] == ["DE", "FR"]
    # Decided by detection's rule, found by a flagger's report.
    assert (held["automated_detection"], held["automated_decision"]) == (
        "No",
        "AUTOMATED_DECISION_FULLY",
    )


@pytest.mark.parametrize(
    ("script", "posts"),
    [(("after", "drop"), [3]), (("after", "500"), [3]), (("before", "503"), [])],
    ids=["dropped-after-storing", "500-after-storing", "503-before-storing"],
)
def test_a_retry_asks_the_database_before_sending_again(
    eu: Database,
    eu_runtime: Runtime,
    http: httpx.Client,
    script: tuple[str, str],
    posts: list[int],
) -> None:
    puids = decide_seeded(eu_runtime, 3)
    eu.script.append(script)
    assert worker_round(eu_runtime, http) == 0
    assert eu.posts == posts and eu.asked == []
    assert all(r.state == "pending" and r.maybe_received for r in rows(eu_runtime))

    assert eu_runtime.send_eu_statements(http, now=utcnow() + LATER) == 3
    assert sorted(eu.asked) == sorted(puids)
    stored_first = script[0] == "after"
    # Stored by the first call: known, not sent again; refused before storing: sent now.
    assert eu.posts == (posts if stored_first else [*posts, 3])
    assert set(eu.stored) == set(puids)
    assert all(r.state == "delivered" and not r.maybe_received for r in rows(eu_runtime))


def test_a_field_the_database_refuses_marks_that_statement_refused_and_sends_the_others(
    eu: Database, eu_runtime: Runtime, eu_client: TestClient, http: httpx.Client
) -> None:
    tokens = make_tokens(eu_runtime)
    refused = decide(eu_client, tokens, 1)  # fraud: KEYWORD_PHISHING
    taken = decide(eu_client, tokens, 2, category="hate_speech", policy_ref="terms/hate")
    eu.keywords.discard("KEYWORD_PHISHING")  # the database's schema moved on before ours

    assert worker_round(eu_runtime, http) == 0
    assert eu.posts == [2]
    assert eu_runtime.send_eu_statements(http, now=utcnow() + LATER) == 1
    assert eu.posts == [2, 1]
    assert set(eu.stored) == {f"tanggap-decision-{taken}"}

    [listed] = eu_client.get("/v1/eu-statements?state=refused", headers=bearer(tokens.admin)).json()
    assert listed["decision_id"] == refused and listed["refused_by"] == "eu_database"
    assert listed["refusals"] == {
        "category_specification": ["The selected category specification is invalid."]
    }
    assert listed["last_status"] == 422
    assert eu_runtime.send_eu_statements(http, now=utcnow() + 2 * LATER) == 0  # for good


def test_a_puid_the_database_holds_already_counts_as_sent(
    eu: Database, eu_runtime: Runtime, http: httpx.Client
) -> None:
    first, second = decide_seeded(eu_runtime, 2)
    eu.stored[first] = {"puid": first, "uuid": "held-before"}  # from a restored backup, say

    assert worker_round(eu_runtime, http) == 1  # the batch is refused: 422 on the puid
    assert eu.asked == [first]
    assert eu_runtime.send_eu_statements(http, now=utcnow() + LATER) == 1
    assert eu.posts == [2, 1] and eu.stored[second]["puid"] == second
    assert [r.state for r in rows(eu_runtime)] == ["delivered", "delivered"]


def test_a_wrong_token_fails_for_good(
    eu: Database, eu_runtime: Runtime, http: httpx.Client
) -> None:
    decide_seeded(eu_runtime, 1)
    eu.token = "another-token"
    assert worker_round(eu_runtime, http) == 0
    [row] = rows(eu_runtime)
    assert (row.state, row.last_status, row.refused_by) == ("failed", 401, "eu_database")
    assert eu.stored == {}


def test_a_statement_our_check_refuses_is_not_sent_and_can_be_requeued_after_a_fix(
    settings: Settings, eu: Database, http: httpx.Client, tmp_path: Path
) -> None:
    policy = settings.policy_file.read_text()
    broken = tmp_path / "policy.yaml"
    # KEYWORD_DISINFORMATION was replaced on 1 July 2025: the database refuses it.
    broken.write_text(policy.replace("KEYWORD_PHISHING", "KEYWORD_DISINFORMATION"))
    runtime = build_runtime(eu_settings(settings, eu, policy_file=broken))
    try:
        app = create_app(runtime=runtime, run_dispatcher=False)
        with TestClient(app, raise_server_exceptions=False) as client:
            tokens = make_tokens(runtime)
            decide(client, tokens, 1)
            assert worker_round(runtime, http) == 0
            assert eu.posts == []  # never sent
            admin = bearer(tokens.admin)
            [listed] = client.get("/v1/eu-statements?state=refused", headers=admin).json()
            assert listed["refused_by"] == "tanggap" and listed["attempts"] == 0
            assert list(listed["refusals"]) == ["category_specification"]
            again = client.post(
                f"/v1/eu-statements/{listed['statement_id']}/requeue", headers=admin
            )
            assert again.status_code == 422
            assert again.json()["error"]["field"] == "category_specification"
    finally:
        runtime.close()

    fixed = build_runtime(eu_settings(settings, eu))  # the policy file put right
    try:
        app = create_app(runtime=fixed, run_dispatcher=False)
        with TestClient(app, raise_server_exceptions=False) as client:
            requeued = client.post(
                f"/v1/eu-statements/{listed['statement_id']}/requeue", headers=admin
            )
            assert requeued.status_code == 200, requeued.text
            assert requeued.json()["state"] == "pending"
            assert worker_round(fixed, http) == 1
            assert eu.stored[listed["puid"]]["category_specification"] == ["KEYWORD_PHISHING"]
            again = client.post(
                f"/v1/eu-statements/{listed['statement_id']}/requeue", headers=admin
            )
            assert again.status_code == 409
    finally:
        fixed.close()


def test_a_reversal_on_appeal_keeps_the_statement_and_marks_it(
    eu: Database, eu_runtime: Runtime, eu_client: TestClient, http: httpx.Client
) -> None:
    tokens = make_tokens(eu_runtime)
    decision_id = decide(eu_client, tokens, 1)
    appeal = {"channel": "beritakita", "message_id": 1, "reason": "It was a real giveaway."}
    filed = eu_client.post("/v1/appeals", json=appeal, headers=bearer(tokens.platform))
    assert filed.status_code == 201, filed.text
    case_id = filed.json()["case_id"]
    other = bearer(tokens.reviewer2)
    assert eu_client.post(f"/v1/cases/{case_id}/claim", headers=other).is_success
    reversed_ = eu_client.post(
        f"/v1/cases/{case_id}/decision",
        json={"outcome": "reverse", "explanation": "A real giveaway after all."},
        headers=other,
    )
    assert reversed_.status_code == 201, reversed_.text

    assert worker_round(eu_runtime, http) == 1
    [row] = rows(eu_runtime)
    assert str(row.decision_id) == decision_id and row.reversed_at is not None
    assert list(eu.stored) == [f"tanggap-decision-{decision_id}"]


def test_without_the_database_configured_nothing_is_queued(
    runtime: Runtime, client: TestClient, tokens: Tokens, http: httpx.Client
) -> None:
    decide(client, tokens, 1)
    assert rows(runtime) == []
    assert wake.EU_STATEMENTS not in {j.name for j in jobs.background_jobs(runtime, http)}
