"""Append audit events in the caller's transaction and verify the chain."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tanggap.audit.chain import ChainProblem, ChainWalk, canonical_json, seal_texts
from tanggap.audit.export import (
    Checkpoint,
    Exported,
    ExportedEvent,
    checkpoint_problem,
    header_line,
    lines_of,
)
from tanggap.audit.models import AuditChainHead, AuditCheckpoint, AuditEvent
from tanggap.db.base import insert_rows, utcnow

SYSTEM_ACTOR = "system"


HELD = "tanggap.audit.held"  # session.info key: the rows ``batched`` holds


def record(
    *,
    session: Session,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: object,
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
    free_text: Mapping[str, str | None] | None = None,
) -> None:
    """Append one event, unsealed, inside the caller's transaction: it commits or vanishes with
    the change it tells of, and waits on no other transaction (the sealer chains it later).
    ``free_text`` holds what a person wrote (a note, a reason, a letter): it joins the data,
    but the chain covers only its digest, so that retention can purge it (``purge_texts``)."""
    row = {
        "occurred_at": occurred_at or utcnow(),
        "actor": actor,
        "action": action,
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        **event_data(data, free_text),
    }
    held: list[dict[str, Any]] | None = session.info.get(HELD)
    if held is not None:
        held.append(row)
        return
    session.add(AuditEvent(**row))  # flushed with the change it tells of, with its siblings


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """Hold the events recorded inside as rows and append them in one statement at the end: a
    batch of many changes builds no object per event. Only for work without savepoints (an
    event of a change rolled back to a savepoint would stay)."""
    if HELD in session.info:  # already holding: the outer block writes them
        yield
        return
    held: list[dict[str, Any]] = []
    session.info[HELD] = held
    try:
        yield
    finally:
        del session.info[HELD]
    insert_rows(session, AuditEvent, held)


def event_data(
    data: dict[str, Any] | None, free_text: Mapping[str, str | None] | None
) -> dict[str, str | None]:
    """Return the ``data`` and ``free_text`` columns of an event."""
    if not free_text:
        return {"data": canonical_json(data or {})}
    clash = set(free_text) & set(data or {})
    if clash:
        raise ValueError(f"free text {sorted(clash)} is also a field of the event's data")
    seals = seal_texts(free_text)
    return {
        "data": canonical_json({**(data or {}), **free_text}),
        "free_text": canonical_json(seals) if seals else None,
    }


def record_many(
    *,
    session: Session,
    actor: str,
    action: str,
    subject_type: str,
    events: Sequence[tuple[object, dict[str, Any]]],
) -> None:
    """Append events of one kind (subject id, data), unsealed, in one statement inside the
    caller's transaction, as ``record`` appends one."""
    if not events:
        return
    now = utcnow()
    insert_rows(
        session,
        AuditEvent,
        [
            {
                "occurred_at": now,
                "actor": actor,
                "action": action,
                "subject_type": subject_type,
                "subject_id": str(subject_id),
                "data": canonical_json(data),
            }
            for subject_id, data in events
        ],
    )


def events_about(
    *, session: Session, subject_ids: Iterable[object], limit: int = 200
) -> list[AuditEvent]:
    """Return the events about any of ``subject_ids``, oldest first (a case's history)."""
    ids = [str(s) for s in subject_ids]
    return list(
        session.execute(
            select(AuditEvent)
            .where(AuditEvent.subject_id.in_(ids))
            .order_by(AuditEvent.id)
            .limit(limit)
        ).scalars()
    )


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying the chain: sealed events checked, signed checkpoints checked,
    the first problem, and the unsealed tail (pending, not an error) with its oldest event."""

    checked: int
    problem: ChainProblem | None
    checkpoints: int = 0
    pending: int = 0
    oldest_pending: datetime | None = None
    purged: int = 0  # sealed events whose free text was purged (their digests checked)

    @property
    def intact(self) -> bool:
        """Tell whether every event and checkpoint checked out."""
        return self.problem is None


def verify(
    *,
    session: Session,
    public_key: str | None = None,
    against: Exported | None = None,
    batch_size: int = 5000,
) -> ChainReport:
    """Walk the sealed chain and its checkpoints (signed by ``public_key`` when given) and report
    the first altered, inserted or missing event; with ``against``, an earlier export, also the
    first event that differs from that copy."""
    head = session.execute(
        select(AuditChainHead).where(AuditChainHead.id == 1)
    ).scalar_one_or_none()
    if head is None:
        return ChainReport(0, ChainProblem(0, "the chain head row is missing"))
    head_seq, head_hash = head.last_seq, head.last_hash
    checkpoints = {
        c.seq: c
        for c in session.execute(
            select(AuditCheckpoint).where(AuditCheckpoint.seq <= head_seq)
        ).scalars()
    }
    walk = ChainWalk()
    problem = None
    # Only events up to the head read above: the sealer chaining meanwhile does not count.
    for event in _sealed(session, batch_size, up_to=head_seq):
        problem = (
            walk.step(event)
            or _against(against, event)
            or _checkpoint_at(checkpoints.get(event.seq or 0), event, public_key)
        )
        if problem is not None:
            return ChainReport(walk.checked, problem)
    problem = _after_walk(session, walk, head_seq, head_hash) or _copy_beyond(against, walk)
    if problem is not None:
        return ChainReport(walk.checked, problem)
    pending, oldest = unsealed(session=session)
    return ChainReport(walk.checked, None, len(checkpoints), pending, oldest, walk.purged)


def unsealed(*, session: Session) -> tuple[int, datetime | None]:
    """Return how many events wait to be sealed, and when the oldest of them happened."""
    pending, oldest = session.execute(
        select(func.count(), func.min(AuditEvent.occurred_at)).where(AuditEvent.seq.is_(None))
    ).one()
    return int(pending), oldest


def last_checkpoint(*, session: Session) -> Checkpoint | None:
    """Return the newest signed checkpoint, if any."""
    newest = session.execute(
        select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)
    ).scalar_one_or_none()
    return Checkpoint.of(newest) if newest is not None else None


def _after_walk(
    session: Session, walk: ChainWalk, head_seq: int, head_hash: str
) -> ChainProblem | None:
    # The sealer advances the head with every event it seals, so with the head read again after
    # the newest event, a sealed event above the head was written around the chain.
    checked = walk.checked
    newest = session.execute(select(func.max(AuditEvent.seq))).scalar_one() or 0
    head_now = session.execute(
        select(AuditChainHead.last_seq).where(AuditChainHead.id == 1)
    ).scalar_one()
    if newest > head_now:
        return ChainProblem(head_now + 1, f"event {head_now + 1} lies beyond the chain head")
    if head_seq != checked:
        reason = f"the chain head names event {head_seq} but the log ends at event {checked}"
        return ChainProblem(min(head_seq, checked + 1), reason)
    if head_hash != walk.last_hash:
        return ChainProblem(checked, f"event {checked} does not match the chain head")
    return None


def _checkpoint_at(
    checkpoint: AuditCheckpoint | None, event: AuditEvent, public_key: str | None
) -> ChainProblem | None:
    if checkpoint is None:
        return None
    return checkpoint_problem(
        Checkpoint.of(checkpoint), hash_at_seq=event.hash or "", public_key=public_key
    )


def _against(copy: Exported | None, event: AuditEvent) -> ChainProblem | None:
    if copy is None:
        return None
    kept = copy.events.get(event.seq or 0)
    if kept is None or kept.hash == event.hash:
        return None
    return ChainProblem(
        kept.seq, f"event {kept.seq} differs from the copy exported on {copy.exported_at}"
    )


def _copy_beyond(copy: Exported | None, walk: ChainWalk) -> ChainProblem | None:
    if copy is None or not copy.events:
        return None
    newest_kept = max(copy.events)
    if newest_kept >= walk.next_seq:
        return ChainProblem(
            walk.next_seq,
            f"the copy exported on {copy.exported_at} holds event {walk.next_seq}, "
            "the database does not",
        )
    return None


def _sealed(session: Session, batch_size: int, up_to: int, after: int = 0) -> Iterable[AuditEvent]:
    last = after
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
        last = rows[-1].seq or 0
        session.expunge_all()


def export_lines(*, session: Session, since: int = 0, batch_size: int = 5000) -> Iterator[str]:
    """Write the sealed events after ``since`` and every checkpoint after it as an export
    (``audit.export``), one JSON line at a time."""
    head_seq = session.execute(
        select(AuditChainHead.last_seq).where(AuditChainHead.id == 1)
    ).scalar_one()
    checkpoints = [
        Checkpoint.of(c)
        for c in session.execute(
            select(AuditCheckpoint)
            .where(AuditCheckpoint.seq > since, AuditCheckpoint.seq <= head_seq)
            .order_by(AuditCheckpoint.seq)
        ).scalars()
    ]
    yield header_line(since=since, exported_at=utcnow())
    events = (
        ExportedEvent(
            seq=e.seq or 0,
            prev_hash=e.prev_hash or "",
            hash=e.hash or "",
            occurred_at=e.occurred_at,
            actor=e.actor,
            action=e.action,
            subject_type=e.subject_type,
            subject_id=e.subject_id,
            data=e.data,
            free_text=e.free_text,
        )
        for e in _sealed(session, batch_size, up_to=head_seq, after=since)
    )
    yield from lines_of(events, checkpoints)


def checkpoints(*, session: Session, after: int = 0, limit: int = 100) -> list[Checkpoint]:
    """Return the signed checkpoints past event ``after``, oldest first."""
    rows = session.execute(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.seq > after)
        .order_by(AuditCheckpoint.seq)
        .limit(limit)
    ).scalars()
    return [Checkpoint.of(row) for row in rows]
