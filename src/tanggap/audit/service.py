"""Append audit events in the caller's transaction and verify the chain."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tanggap.audit.chain import GENESIS_HASH, canonical_json, event_hash
from tanggap.audit.models import AuditChainHead, AuditEvent
from tanggap.db.base import utcnow

SYSTEM_ACTOR = "system"


def record(
    *,
    session: Session,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: object,
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> AuditEvent:
    """Append one audit event to the chain, inside the caller's transaction."""
    head = _locked_head(session)
    when = occurred_at or utcnow()
    event = AuditEvent(
        seq=head.last_seq + 1,
        occurred_at=when,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        data=canonical_json(data or {}),
        prev_hash=head.last_hash,
    )
    event.hash = _hash_of(event)
    session.add(event)
    head.last_seq = event.seq
    head.last_hash = event.hash
    session.flush()
    return event


def events_about(
    *, session: Session, subject_ids: Iterable[object], limit: int = 200
) -> list[AuditEvent]:
    """Return the events about any of ``subject_ids``, oldest first (a case's history)."""
    ids = [str(s) for s in subject_ids]
    return list(
        session.execute(
            select(AuditEvent)
            .where(AuditEvent.subject_id.in_(ids))
            .order_by(AuditEvent.seq)
            .limit(limit)
        ).scalars()
    )


def _locked_head(session: Session) -> AuditChainHead:
    # Locking the head row serialises appends on PostgreSQL (SQLite has one writer anyway). The
    # lock lasts until the transaction ends, so the row is read once per transaction; a rolled
    # back savepoint expires it and the next access reads it again.
    transaction = session.get_transaction()
    held = session.info.get("audit_head")
    if held is not None and held[0] is transaction and held[1] in session:
        return held[1]
    # populate_existing: a head object left from an earlier transaction of this session must be
    # read afresh (sessions keep attributes after commit).
    head = session.execute(
        select(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    session.info["audit_head"] = (transaction, head)
    return head


def _hash_of(event: AuditEvent) -> str:
    return event_hash(
        seq=event.seq,
        prev_hash=event.prev_hash,
        occurred_at=event.occurred_at,
        actor=event.actor,
        action=event.action,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        data=event.data,
    )


@dataclass(frozen=True)
class ChainProblem:
    """The first place where the chain does not hold."""

    seq: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying the chain."""

    checked: int
    problem: ChainProblem | None

    @property
    def intact(self) -> bool:
        """Tell whether every event checked out."""
        return self.problem is None


def verify(*, session: Session, batch_size: int = 5000) -> ChainReport:
    """Walk the whole chain and report the first altered, inserted or missing event."""
    head = session.execute(
        select(AuditChainHead).where(AuditChainHead.id == 1)
    ).scalar_one_or_none()
    if head is None:
        return ChainReport(0, ChainProblem(0, "the chain head row is missing"))
    head_seq, head_hash = head.last_seq, head.last_hash
    expected_seq, expected_prev, checked = 1, GENESIS_HASH, 0
    # Only events up to the head read above: writers appending meanwhile do not count.
    for event in _events(session, batch_size, up_to=head_seq):
        if event.seq != expected_seq:
            missing = expected_seq if event.seq > expected_seq else event.seq
            return ChainReport(checked, ChainProblem(missing, f"event {missing} is missing"))
        if event.prev_hash != expected_prev:
            return ChainReport(
                checked,
                ChainProblem(
                    event.seq, f"event {event.seq} does not link to event {event.seq - 1}"
                ),
            )
        if _hash_of(event) != event.hash:
            return ChainReport(
                checked,
                ChainProblem(event.seq, f"event {event.seq} was altered after it was written"),
            )
        expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    # Every committed event advanced the head in its own transaction, so with the head read
    # after the newest event, an event above the head was written around the chain.
    newest = session.execute(select(func.max(AuditEvent.seq))).scalar_one() or 0
    head_now = session.execute(
        select(AuditChainHead.last_seq).where(AuditChainHead.id == 1)
    ).scalar_one()
    if newest > head_now:
        return ChainReport(
            checked,
            ChainProblem(head_now + 1, f"event {head_now + 1} lies beyond the chain head"),
        )
    if head_seq != checked:
        reason = f"the chain head names event {head_seq} but the log ends at event {checked}"
        return ChainReport(checked, ChainProblem(min(head_seq, checked + 1), reason))
    if head_hash != expected_prev:
        return ChainReport(
            checked, ChainProblem(checked, f"event {checked} does not match the chain head")
        )
    return ChainReport(checked, None)


def _events(session: Session, batch_size: int, up_to: int) -> Iterable[AuditEvent]:
    last = 0
    while True:
        rows = (
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.seq > last, AuditEvent.seq <= up_to)
                .order_by(AuditEvent.seq)
                .limit(batch_size)
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()
