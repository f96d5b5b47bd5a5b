"""Retention: each kind of data purged at its age and not a minute before, counted once even
with two rounds at once, and the audit chain still verifies after a purge."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tanggap.actions.models import Action
from tanggap.audit import service as audit
from tanggap.audit.chain import PURGED_TEXT
from tanggap.audit.models import AuditEvent
from tanggap.auth.models import Principal, WebSession
from tanggap.cases.models import Case, Decision
from tanggap.channels.models import Channel, TelegramMember
from tanggap.heartbeats import service as heartbeats
from tanggap.idempotency.models import IdempotencyRecord
from tanggap.legal.models import LegalLetter
from tanggap.metrics import REGISTRY
from tanggap.notify.models import DeliveryAttempt, Notification
from tanggap.outbox import DeliveryState
from tanggap.posts.models import Post
from tanggap.reports.models import Report, ReportMessage
from tanggap.retention.kinds import KINDS
from tanggap.retention.service import purge_round
from tests.commands import tanggap
from tests.factories import Tokens, bearer, decision_body, post_body, reported_case
from tests.legal_helpers import FINDING, make_officer, register, step

T0 = datetime(2025, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
NOTE = "Dilaporkan oleh Siti, nomor 0812-0000-0000"
EXPECTED = {
    "report_notes": 1,
    "thread_messages": 1,
    "decision_texts": 1,
    "idempotency_records": 1,
    # the attempt row, the action's error text, a delivered webhook's body, and the error in
    # the action's audit event
    "delivery_attempts": 4,
    "web_sessions": 1,
    "job_heartbeats": 1,
    "letters": 2,  # a refused data request's answer, in Bahasa Indonesia and in English
    "telegram_members": 3,  # those no case concerns; the reported post's author stays
}
CHAT = "-1001234567890"
OTHER_CHAT = "-1009876543210"


def settled_report(client: TestClient, tokens: Tokens, runtime: Any) -> str:
    """A report with a note, a thread message, decided and actioned; return its id."""
    case_id = reported_case(client, tokens, note=NOTE)
    reviewer = bearer(tokens.reviewer)
    assert client.post(f"/v1/cases/{case_id}/claim", headers=reviewer).status_code == 200
    decided = client.post(f"/v1/cases/{case_id}/decision", json=decision_body(), headers=reviewer)
    assert decided.status_code == 201, decided.text
    with runtime.factory() as session:
        report_id = str(session.execute(select(Report.id)).scalar_one())
    written = client.post(
        f"/v1/reports/{report_id}/messages",
        json={"body": "Mohon kabari kami, terima kasih — Siti"},
        headers=bearer(tokens.flagger),
    )
    assert written.status_code == 201, written.text
    officer = make_officer(runtime, "hukum@platform.example")
    request_id = register(client, officer).json()["request_id"]
    assert step(client, officer, request_id, "assessment", FINDING).status_code == 200
    refused = step(client, officer, request_id, "decision", {"outcome": "refuse"})
    assert refused.status_code == 200, refused.text
    return report_id


def set_in_the_past(runtime: Any) -> None:
    """Date every row of every kind at ``T0`` (the sessions expired then), add the rows the
    API path does not make, and seal the audit log."""
    client_key = {"Idempotency-Key": "retention-test-1"}
    with runtime.factory() as session, session.begin():
        principal = session.execute(select(Principal.id).limit(1)).scalar_one()
        action = session.execute(select(Action).limit(1)).scalar_one()
        action.last_error = "platform said: user @siti_r not found"
        audit.record(
            session=session,
            actor=audit.SYSTEM_ACTOR,
            action="action.retry_scheduled",
            subject_type="action",
            subject_id=action.id,
            data={"attempts": 1},
            free_text={"error": action.last_error},
            occurred_at=T0,
        )
        notification = Notification(event="report.received", body="{}", org_id=None)
        session.add(notification)
        session.flush()
        session.add(DeliveryAttempt(notification_id=notification.id, error="x", duration_ms=3))
        delivered = Notification(
            event="thread.message",
            body='{"body": "Mohon kabari kami — Siti"}',
            org_id=None,
            state=DeliveryState.DELIVERED,
        )
        session.add(delivered)
        session.add(
            IdempotencyRecord(
                principal_id=principal,
                endpoint="reports.create",
                key=client_key["Idempotency-Key"],
                request_hash="0" * 64,
                status_code=202,
                response={},
            )
        )
        session.add(
            WebSession(id_hash="a" * 64, principal_id=principal, csrf_token="c", expires_at=T0)
        )
        heartbeats.record(session=session, job="gone", process="host:1", ok=True, at=T0)
        reported = session.execute(select(Post.author_ref).join(Case)).scalar_one()
        unreported = session.execute(
            select(Post.author_ref).where(Post.author_ref != reported)
        ).scalar_one()
        session.execute(update(Channel).values(platform_ref=CHAT))
        # Only the first is kept: their post in that chat has a case.
        for chat_ref, author_ref in (
            (CHAT, reported),
            (OTHER_CHAT, reported),  # their case is in another chat
            (CHAT, unreported),  # a post, but no case
            (CHAT, "u_never_posted_here"),
        ):
            session.add(
                TelegramMember(
                    chat_ref=chat_ref,
                    author_ref=author_ref,
                    sealed_id="sealed",
                    first_seen_at=T0,
                    last_seen_at=T0,
                )
            )
        for column in (
            Report.received_at,
            ReportMessage.created_at,
            Decision.decided_at,
            IdempotencyRecord.created_at,
            DeliveryAttempt.attempted_at,
            Action.created_at,
            LegalLetter.rendered_at,
        ):
            session.execute(update(column.class_).values({column.key: T0}))
        session.execute(update(Notification).values(created_at=T0 + timedelta(days=3650)))
        session.execute(
            update(Notification).where(Notification.id == delivered.id).values(created_at=T0)
        )
    runtime.seal_audit()


def purged_total(kind: str) -> float:
    value = REGISTRY.get_sample_value("tanggap_retention_purged_total", {"kind": kind})
    return value or 0.0


def test_each_kind_is_purged_at_its_age_and_not_a_minute_before(
    client: TestClient, tokens: Tokens, runtime: Any
) -> None:
    report_id = settled_report(client, tokens, runtime)
    unreported = post_body(message_id=2, text="Siapa ikut arisan?", author_id=777)
    assert (
        client.post("/v1/posts", json=unreported, headers=bearer(tokens.platform)).status_code
        == 201
    )
    set_in_the_past(runtime)
    retention = runtime.policy.retention
    ages = sorted({getattr(retention, kind) for kind in KINDS})
    before_metric = {kind: purged_total(kind) for kind in KINDS}
    seen: dict[str, int] = dict.fromkeys(KINDS, 0)
    for age in ages:
        due = [kind for kind in KINDS if getattr(retention, kind) == age]
        early = purge_round(factory=runtime.factory, retention=retention, now=T0 + age - MINUTE)
        assert all(early[kind] == 0 for kind in due), (age, early)
        dry = purge_round(
            factory=runtime.factory, retention=retention, now=T0 + age + MINUTE, dry_run=True
        )
        done = purge_round(factory=runtime.factory, retention=retention, now=T0 + age + MINUTE)
        for kind in due:
            seen[kind] += done[kind]
            if kind != "delivery_attempts":  # a dry run counts rows, not their audit events
                assert dry[kind] == done[kind], (kind, dry, done)
    assert seen == EXPECTED
    assert {k: purged_total(k) - before_metric[k] for k in KINDS} == {
        k: float(v) for k, v in EXPECTED.items()
    }

    with runtime.factory() as session:
        report = session.get(Report, uuid.UUID(report_id))
        assert report is not None and report.note == PURGED_TEXT
        assert report.category == "fraud"  # the counts still have what they need
        assert {m.body for m in session.execute(select(ReportMessage)).scalars()} == {PURGED_TEXT}
        assert session.execute(select(Decision.explanation)).scalar_one() == PURGED_TEXT
        assert session.execute(select(Action.last_error)).scalar_one() is None
        letters = session.execute(select(LegalLetter.body, LegalLetter.sha256)).all()
        assert [body for body, _ in letters] == [None, None]
        assert all(len(digest) == 64 for _, digest in letters)  # the digests stay
        members = session.execute(select(TelegramMember.chat_ref, TelegramMember.author_ref)).all()
        reported = session.execute(select(Post.author_ref).join(Case)).scalar_one()
        assert [tuple(member) for member in members] == [(CHAT, reported)]
        bodies = session.execute(
            select(Notification.body).where(Notification.state == DeliveryState.DELIVERED)
        ).scalars()
        assert list(bodies) == [PURGED_TEXT]
        rounds = session.execute(
            select(AuditEvent.data).where(AuditEvent.action == "retention.purged")
        ).scalars()
        assert len(list(rounds)) == len(ages)  # one event per round that purged anything
    shown = client.get(f"/v1/reports/{report_id}", headers=bearer(tokens.flagger))
    assert shown.status_code == 200
    runtime.seal_audit()
    with runtime.factory() as session:
        chain = audit.verify(session=session)
    assert chain.intact and chain.purged == 1


def test_two_rounds_at_once_purge_each_row_once(
    client: TestClient, tokens: Tokens, runtime: Any
) -> None:
    report_id = settled_report(client, tokens, runtime)
    for number in range(24):
        written = client.post(
            f"/v1/reports/{report_id}/messages",
            json={"body": f"message {number}"},
            headers=bearer(tokens.flagger),
        )
        assert written.status_code == 201
    later = datetime.now(UTC) + timedelta(days=3650)
    start = threading.Barrier(2)
    results: list[dict[str, int]] = []

    def one_round() -> None:
        start.wait()
        results.append(
            purge_round(
                factory=runtime.factory,
                retention=runtime.policy.retention,
                now=later,
                batch_size=5,
            )
        )

    rounds = [threading.Thread(target=one_round) for _ in range(2)]
    for thread in rounds:
        thread.start()
    for thread in rounds:
        thread.join()
    assert len(results) == 2
    assert sum(r["thread_messages"] for r in results) == 25
    assert sum(r["report_notes"] for r in results) == 1
    assert sum(r["decision_texts"] for r in results) == 1


def test_the_command_counts_then_purges(
    database_url: str, client: TestClient, tokens: Tokens, runtime: Any
) -> None:
    settled_report(client, tokens, runtime)
    with runtime.factory() as session, session.begin():
        session.execute(update(ReportMessage).values(created_at=T0))
    dry = tanggap("retention", "run", "--dry-run", database_url=database_url)
    assert dry.returncode == 0, dry.stderr
    assert "thread_messages\t1" in dry.stdout and "would purge" in dry.stderr
    with runtime.factory() as session:
        assert session.execute(select(ReportMessage.body)).scalar_one() != PURGED_TEXT
    done = tanggap("retention", "run", database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert "thread_messages\t1" in done.stdout
    with runtime.factory() as session:
        assert session.execute(select(ReportMessage.body)).scalar_one() == PURGED_TEXT
