"""Parallel clients over real HTTP: retries never double a report, claims never double a case."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
from sqlalchemy import text

from tanggap.runtime import Runtime
from tests.factories import (
    Tokens,
    bearer,
    make_reviewer,
    make_token,
    post_body,
    report_body,
    run_triage,
    seed_cases,
)


def test_fifty_parallel_retries_with_one_key_create_one_report(
    live_server: str, tokens: Tokens, runtime: Runtime
) -> None:
    with httpx.Client(base_url=live_server, timeout=60) as client:
        posted = client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
        assert posted.status_code == 201
    headers = bearer(tokens.flagger, **{"Idempotency-Key": "bulk-7f3a"})
    start = Barrier(50)

    def submit(_: int) -> tuple[int, dict[str, object]]:
        with httpx.Client(base_url=live_server, timeout=60) as client:
            start.wait()
            answer = client.post("/v1/reports", json=report_body(), headers=headers)
            return answer.status_code, answer.json()

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(submit, range(50)))
    assert {status for status, _ in answers} == {202}, answers[:3]
    assert len({body["report_id"] for _, body in answers}) == 1
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM reports")).scalar_one() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM cases")).scalar_one() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM idempotency_records")).scalar_one() == 1
        received = conn.execute(
            text("SELECT COUNT(*) FROM audit_events WHERE action = 'report.received'")
        ).scalar_one()
    assert received == 1


def test_parallel_claims_hand_a_case_to_exactly_one_reviewer(
    live_server: str, tokens: Tokens, runtime: Runtime
) -> None:
    reviewers = [make_token(runtime, "reviewer", name=f"reviewer {i}") for i in range(12)]
    with httpx.Client(base_url=live_server, timeout=60) as client:
        client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
        case_id = client.post(
            "/v1/reports", json=report_body(), headers=bearer(tokens.flagger)
        ).json()["case_id"]
    start = Barrier(len(reviewers))

    def claim(token: str) -> int:
        with httpx.Client(base_url=live_server, timeout=60) as client:
            start.wait()
            return client.post(f"/v1/cases/{case_id}/claim", headers=bearer(token)).status_code

    with ThreadPoolExecutor(max_workers=len(reviewers)) as pool:
        statuses = sorted(pool.map(claim, reviewers))
    assert statuses == [200] + [409] * (len(reviewers) - 1)
    with runtime.engine.connect() as conn:
        claims = conn.execute(
            text("SELECT COUNT(*) FROM audit_events WHERE action = 'case.claimed'")
        ).scalar_one()
    assert claims == 1


def test_parallel_first_writes_on_a_new_channel_and_post_make_one_of_each(
    live_server: str, tokens: Tokens, runtime: Runtime
) -> None:
    start = Barrier(16)

    def ingest_and_report(n: int) -> tuple[int, int]:
        with httpx.Client(base_url=live_server, timeout=60) as client:
            start.wait()
            posted = client.post(
                "/v1/posts", json=post_body(channel="kanalbaru"), headers=bearer(tokens.platform)
            )
            reported = client.post(
                "/v1/reports",
                json=report_body(target="t.me/kanalbaru/1", reporter_id=f"user-{n}"),
                headers=bearer(tokens.platform),
            )
            return posted.status_code, reported.status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(ingest_and_report, range(16)))
    assert {posted for posted, _ in answers} <= {200, 201}
    assert sorted(posted for posted, _ in answers).count(201) == 1
    assert {reported for _, reported in answers} == {202}
    with runtime.engine.connect() as conn:
        counts = [
            conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            for table in ("channels", "posts", "cases", "reports")
        ]
        joined = conn.execute(text("SELECT report_count FROM cases")).scalar_one()
    assert counts == [1, 1, 1, 16] and joined == 16


def test_twenty_reviewers_taking_next_cases_get_every_case_exactly_once(
    live_server: str, runtime: Runtime
) -> None:
    case_ids = seed_cases(runtime, 200)
    assert run_triage(runtime) == 200
    reviewers = [make_reviewer(runtime, f"r{i}@example.org", ("id", "ms", "en")) for i in range(20)]
    start = Barrier(len(reviewers))

    def drain(token: str) -> list[str]:
        taken: list[str] = []
        with httpx.Client(base_url=live_server, timeout=60) as client:
            start.wait()
            while True:
                answer = client.post("/v1/cases/next", headers=bearer(token))
                if answer.status_code == 204:
                    return taken
                assert answer.status_code == 200, answer.text
                taken.append(answer.json()["case_id"])

    with ThreadPoolExecutor(max_workers=len(reviewers)) as pool:
        handed = [case for cases in pool.map(drain, reviewers) for case in cases]
    assert len(handed) == 200
    assert sorted(handed) == sorted(case_ids)
    with runtime.engine.connect() as conn:
        claims = conn.execute(
            text("SELECT COUNT(*) FROM audit_events WHERE action = 'case.claimed'")
        ).scalar_one()
        holders = conn.execute(
            text("SELECT COUNT(DISTINCT claimed_by_id) FROM cases WHERE state = 'in_review'")
        ).scalar_one()
    assert claims == 200
    assert holders > 1  # the work fanned out over the reviewers
