"""The audit trail: one event per state change, hash-chained, and tampering is found."""

from __future__ import annotations

import threading
from itertools import pairwise
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tanggap.audit import service as audit
from tanggap.runtime import Runtime
from tests.factories import Tokens, bearer, decision_body, post_body, report_body


def verify(runtime: Runtime) -> audit.ChainReport:
    with runtime.factory() as session:
        return audit.verify(session=session)


@pytest.fixture
def history(client: TestClient, tokens: Tokens, runtime: Runtime) -> dict[str, Any]:
    """A post ingested, reported, claimed and removed; its events sealed."""
    client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    receipt = client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger)).json()
    client.post(f"/v1/cases/{receipt['case_id']}/claim", headers=bearer(tokens.reviewer))
    client.post(
        f"/v1/cases/{receipt['case_id']}/decision",
        json=decision_body(),
        headers=bearer(tokens.reviewer),
    )
    runtime.seal_audit()
    return receipt


def actions_logged(runtime: Runtime) -> list[str]:
    with runtime.engine.connect() as conn:
        return list(conn.execute(text("SELECT action FROM audit_events ORDER BY id")).scalars())


def test_each_step_of_a_takedown_is_an_audit_event(
    runtime: Runtime, history: dict[str, Any]
) -> None:
    logged = actions_logged(runtime)
    takedown = logged[logged.index("channel.created") :]
    assert takedown == [
        "channel.created",
        "post.ingested",
        "case.opened",
        "report.received",
        "case.claimed",
        "report.status_changed",
        "decision.recorded",
        "action.created",
        "action.delivered",
        "report.status_changed",
    ]
    assert verify(runtime).intact


def test_refused_requests_leave_no_audit_event(
    client: TestClient, tokens: Tokens, runtime: Runtime, history: dict[str, Any]
) -> None:
    before = actions_logged(runtime)
    client.post("/v1/reports", json=report_body(category="nope"), headers=bearer(tokens.flagger))
    client.post(f"/v1/cases/{history['case_id']}/claim", headers=bearer(tokens.reviewer))
    assert actions_logged(runtime) == before


def test_the_chain_links_every_event_to_the_one_before(
    runtime: Runtime, history: dict[str, Any]
) -> None:
    with runtime.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT seq, prev_hash, hash FROM audit_events ORDER BY seq")
        ).all()
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == "0" * 64
    for before, after in pairwise(rows):
        assert after.prev_hash == before.hash
    report = verify(runtime)
    assert report.intact and report.checked == len(rows)


@pytest.mark.parametrize(
    ("tamper", "seq", "reason"),
    [
        ('UPDATE audit_events SET data = \'{"status":"declined"}\' WHERE seq = 5', 5, "altered"),
        ("UPDATE audit_events SET actor = 'admin:someone' WHERE seq = 3", 3, "altered"),
        ("UPDATE audit_events SET action = 'case.closed' WHERE seq = 7", 7, "altered"),
        ("DELETE FROM audit_events WHERE seq = 4", 4, "missing"),
        ("DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)", 0, "ends"),
        ("UPDATE audit_events SET prev_hash = hash WHERE seq = 6", 6, "does not link"),
    ],
)
def test_tampering_is_found_and_the_first_bad_event_named(
    runtime: Runtime, history: dict[str, Any], tamper: str, seq: int, reason: str
) -> None:
    with runtime.engine.begin() as conn:
        last = conn.execute(text("SELECT MAX(seq) FROM audit_events")).scalar_one()
        conn.execute(text(tamper))
    report = verify(runtime)
    assert not report.intact
    assert report.problem is not None
    assert reason in report.problem.reason
    assert report.problem.seq == (seq or last)


def test_a_rewritten_chain_still_disagrees_with_its_head(
    runtime: Runtime, history: dict[str, Any]
) -> None:
    # Someone who deletes the newest event and fixes nothing else is caught by the head row.
    with runtime.engine.begin() as conn:
        conn.execute(
            text("DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)")
        )
        conn.execute(text("UPDATE audit_chain_head SET last_seq = last_seq - 1"))
    report = verify(runtime)
    assert report.problem is not None and "does not match the chain head" in report.problem.reason


def test_an_event_slipped_in_above_the_head_is_found(
    runtime: Runtime, history: dict[str, Any]
) -> None:
    with runtime.engine.begin() as conn:
        head = conn.execute(text("SELECT last_seq, last_hash FROM audit_chain_head")).one()
        conn.execute(
            text(
                "INSERT INTO audit_events (id, seq, occurred_at, actor, action, subject_type,"
                " subject_id, data, prev_hash, hash) VALUES (:seq, :seq, :at, 'x',"
                " 'report.deleted', 'report', 'r', '{}', :prev, :hash)"
            ),
            {
                "seq": head.last_seq + 1,
                "at": "2026-01-01 00:00:00",
                "prev": head.last_hash,
                "hash": "f" * 64,
            },
        )
    report = verify(runtime)
    assert report.problem is not None and "beyond the chain head" in report.problem.reason
    assert report.problem.seq == head.last_seq + 1


def test_verify_holds_while_writers_append_and_the_sealer_chains(
    runtime: Runtime, history: dict[str, Any]
) -> None:
    done = threading.Event()

    def write() -> None:
        for n in range(200):
            with runtime.factory() as session, session.begin():
                audit.record(
                    session=session,
                    actor="test",
                    action="test.tick",
                    subject_type="test",
                    subject_id=n,
                )
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    results = []
    while not done.is_set():
        runtime.seal_audit()
        results.append(verify(runtime))
    writer.join()
    runtime.seal_audit()
    results.append(verify(runtime))
    assert all(r.intact for r in results), [r.problem for r in results if not r.intact][:1]
    assert results[-1].checked >= 200


def test_one_session_over_several_transactions_keeps_the_chain(runtime: Runtime) -> None:
    with runtime.factory() as session:
        for n in range(3):
            with session.begin():
                audit.record(
                    session=session, actor="test", action="test.tx", subject_type="t", subject_id=n
                )
                audit.record(
                    session=session, actor="test", action="test.tx", subject_type="t", subject_id=n
                )
            with runtime.factory() as other, other.begin():
                audit.record(
                    session=other,
                    actor="other",
                    action="test.other",
                    subject_type="t",
                    subject_id=n,
                )
    assert verify(runtime).pending == 9
    runtime.seal_audit()
    report = verify(runtime)
    assert report.intact and report.checked == 9 and report.pending == 0
