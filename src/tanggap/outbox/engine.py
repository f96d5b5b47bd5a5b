"""The outbox engine: claim due rows under a lease, send each one outside any database
transaction, record the result in a short transaction of its own.

A row is written in the transaction of the change that causes it (a decision queues its
takedowns, a status change its webhook), so nothing is sent that was not committed and nothing
committed is lost. Delivery is at least once: the receiver deduplicates by the row's id (the
idempotency key of a platform action, the event id of a webhook).

Why a lease and not a row lock: a receiver may take seconds to answer (a remote platform, a slow
webhook endpoint). Holding a row lock, or on SQLite the single write lock, for that long would
stall every other writer. The claim moves ``next_attempt_at`` to the end of the lease and
commits; other workers skip the row until then. The lease's end doubles as a fence: a result is
recorded only while the row still carries the lease it was sent under, so a worker that outlived
its lease cannot overwrite what the worker that re-claimed the row recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

import structlog
from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from tanggap.config import ACTIONS_CLAIMED_AT_ONCE
from tanggap.db.base import utcnow
from tanggap.outbox.retry import DeliveryState

log = structlog.get_logger(__name__)
Item = TypeVar("Item")
CLAIM_BATCH = ACTIONS_CLAIMED_AT_ONCE
MAX_ERROR = 2000


class DeliveryFailed(Exception):
    """A receiver refused the row for now or could not be reached: an expected failure, retried
    with back-off and logged without a traceback (as is any ``OSError``, a refused connection
    say). ``retry_after`` (seconds) is the receiver's own wait, when it named one: the next
    attempt comes no sooner."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeliveryRefused(DeliveryFailed):
    """The receiver refused the row for good (a 4xx that is not a rate limit): the row fails at
    once, with the receiver's answer as its error, and is not tried again."""


@dataclass(frozen=True)
class Sent:
    """What one attempt gave: delivered or not, the error, the receiver's status, the time."""

    ok: bool
    error: str | None = None
    status: int | None = None
    duration_ms: int = 0
    permanent: bool = False  # refused for good: no further attempt
    retry_after: float | None = None  # the receiver's wait before the next attempt, in seconds
    answer: dict[str, Any] | None = None  # what the receiver said of this row, for the kind


@dataclass(frozen=True)
class Claimed(Generic[Item]):
    """A row claimed under a lease, and what to send for it (plain data, no ORM row)."""

    row_id: uuid.UUID
    lease_until: datetime
    item: Item


class OutboxKind(Protocol[Item]):
    """One kind of outbox row. Its table has ``id``, ``state``, ``attempts``,
    ``next_attempt_at``, ``last_error``, ``created_at`` and ``delivered_at``."""

    @property
    def model(self) -> type[Any]:
        """The ORM class of the outbox table."""

    @property
    def lease(self) -> timedelta:
        """How long a claim keeps other workers off a row: longer than sending can take."""

    def eligible(self) -> Sequence[ColumnElement[bool]]:
        """Conditions a due row must also meet to be claimed now (webhooks: head of line)."""

    def prepare(self, session: Session, rows: list[Any]) -> list[Item]:
        """Build, inside the claim's transaction, what to send for each row, in order."""

    def send(self, item: Item) -> Sent:
        """Send one item; no transaction is open. An exception counts as a failed attempt."""

    def retry_at(self, row: Any, now: datetime) -> datetime | None:
        """When to try a failed row again, or None to give up (``row.attempts`` counts this
        attempt already)."""

    def delivered(self, session: Session, row: Any, sent: Sent, now: datetime) -> None:
        """Record, in the result's transaction, what a delivery changes (audit, follow-ups)."""

    def failed(self, session: Session, row: Any, sent: Sent, now: datetime) -> None:
        """Record, in the result's transaction, a failed attempt (``row.state`` says whether
        it was the last)."""

    def counted(self, item: Item, sent: Sent) -> None:
        """Count a recorded attempt once its transaction committed (metrics)."""


class BatchKind(OutboxKind[Item], Protocol[Item]):
    """A kind whose receiver takes many rows in one call (``deliver_due_in_batches``)."""

    def send_batch(self, items: list[Item]) -> list[Sent]:
        """Send the items in one call; no transaction is open. Return one result per item, in
        order; an exception counts as a failed attempt of every item."""


def head_of_line(model: type[Any], group: str) -> ColumnElement[bool]:
    """The condition that a row is the oldest pending one of its ``group`` (a column name): rows
    of one group (a report's webhooks, say) go out one at a time, in order."""
    earlier = aliased(model)
    return ~exists().where(
        and_(
            getattr(earlier, group) == getattr(model, group),
            earlier.state == DeliveryState.PENDING,
            earlier.created_at < model.created_at,
        )
    )


def deliver_due(
    kind: OutboxKind[Any],
    *,
    factory: sessionmaker[Session],
    now: datetime | None = None,
    only: Iterable[uuid.UUID] | None = None,
    limit: int = 100,
) -> int:
    """Send the due rows of ``kind`` (or only those named, when they are due), oldest first;
    return how many were delivered. ``now`` fixes the clock (tests); otherwise it is read
    afresh for every claim and every result."""
    named = None if only is None else list(only)
    if named is not None and not named:
        return 0
    delivered = attempted = 0
    more = True
    while more and attempted < limit:
        size = min(CLAIM_BATCH, limit - attempted)
        batch = _claim(kind, factory, now or utcnow(), named, size)
        # Named rows claimed in one go: asking again would find none of them.
        more = bool(batch) and (named is None or len(batch) == size)
        for claimed in batch:
            attempted += 1
            if (now or utcnow()) >= claimed.lease_until:
                # Sending the batch took longer than its lease: another worker may hold this
                # row by now. Left alone here, it goes to whoever claims it next.
                log.warning("outbox.lease_ran_out", kind=_name(kind), row_id=str(claimed.row_id))
                continue
            sent = _send(kind, claimed)
            try:
                recorded = _record(kind, factory, claimed, sent, now or utcnow())
            except Exception:  # one row's trouble must not strand the rest of the batch
                log.exception("outbox.record_failed", kind=_name(kind), row_id=str(claimed.row_id))
                _record_trouble(kind, factory, claimed, now or utcnow())
                continue
            if recorded:
                kind.counted(claimed.item, sent)
                delivered += sent.ok
    return delivered


def deliver_due_in_batches(
    kind: BatchKind[Any],
    *,
    factory: sessionmaker[Session],
    batch_size: int,
    now: datetime | None = None,
    limit: int = 1000,
) -> int:
    """Send the due rows of ``kind`` oldest first, ``batch_size`` rows a call, each row's result
    recorded as ``deliver_due`` records it; return how many were delivered."""
    delivered = attempted = 0
    while attempted < limit:
        size = min(batch_size, limit - attempted)
        batch = _claim(kind, factory, now or utcnow(), None, size)
        if not batch:
            break
        attempted += len(batch)
        results = _send_batch(kind, batch, now or utcnow())
        for claimed, sent in zip(batch, results, strict=True):
            try:
                recorded = _record(kind, factory, claimed, sent, now or utcnow())
            except Exception:  # one row's trouble must not strand the rest of the batch
                log.exception("outbox.record_failed", kind=_name(kind), row_id=str(claimed.row_id))
                _record_trouble(kind, factory, claimed, now or utcnow())
                continue
            if recorded:
                kind.counted(claimed.item, sent)
                delivered += sent.ok
        if len(batch) < size:
            break
    return delivered


def _send_batch(kind: BatchKind[Item], batch: list[Claimed[Item]], now: datetime) -> list[Sent]:
    if now >= batch[0].lease_until:
        log.warning("outbox.lease_ran_out", kind=_name(kind), rows=len(batch))
        return [Sent(ok=False, error="the lease ran out before sending") for _ in batch]
    try:
        results = kind.send_batch([claimed.item for claimed in batch])
        if len(results) != len(batch):
            raise RuntimeError(f"{len(results)} results for {len(batch)} rows")
        return results
    except Exception as exc:  # whatever the receiver did, the rows are retried, not lost
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
        expected = isinstance(exc, DeliveryFailed | OSError)
        log.warning(
            "outbox.send_failed",
            kind=_name(kind),
            rows=len(batch),
            error=error,
            exc_info=not expected,
        )
        permanent = isinstance(exc, DeliveryRefused)
        retry_after = exc.retry_after if isinstance(exc, DeliveryFailed) else None
        return [
            Sent(ok=False, error=error, permanent=permanent, retry_after=retry_after) for _ in batch
        ]


def _name(kind: OutboxKind[Any]) -> str:
    return str(kind.model.__tablename__)


def _claim(
    kind: OutboxKind[Item],
    factory: sessionmaker[Session],
    now: datetime,
    named: list[uuid.UUID] | None,
    limit: int,
) -> list[Claimed[Item]]:
    model = kind.model
    query = (
        select(model)
        .where(model.state == DeliveryState.PENDING, model.next_attempt_at <= now)
        .where(*kind.eligible())
    )
    if named is not None:
        query = query.where(model.id.in_(named))
    with factory() as session, session.begin():
        # SKIP LOCKED: a row another worker is claiming right now is left to it.
        rows = list(
            session.execute(
                query.order_by(model.created_at, model.id)
                .limit(limit)
                .with_for_update(of=model, skip_locked=True)
                .execution_options(populate_existing=True)
            ).scalars()
        )
        lease_until = now + kind.lease
        for row in rows:
            row.next_attempt_at = lease_until
        items = kind.prepare(session, rows)
        return [Claimed(row.id, lease_until, item) for row, item in zip(rows, items, strict=True)]


def _send(kind: OutboxKind[Item], claimed: Claimed[Item]) -> Sent:
    try:
        return kind.send(claimed.item)
    except Exception as exc:  # whatever the receiver did, the row is retried, not lost
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
        expected = isinstance(exc, DeliveryFailed | OSError)
        # Anything else is a fault of ours (or of an adapter): keep its traceback.
        log.warning(
            "outbox.send_failed",
            kind=_name(kind),
            row_id=str(claimed.row_id),
            error=error,
            exc_info=not expected,
        )
        if isinstance(exc, DeliveryFailed):
            permanent = isinstance(exc, DeliveryRefused)
            return Sent(ok=False, error=error, permanent=permanent, retry_after=exc.retry_after)
        return Sent(ok=False, error=error)


def _leased_row(session: Session, kind: OutboxKind[Any], claimed: Claimed[Any]) -> Any:
    """The row, locked, if it still carries the lease it was claimed under; else None."""
    model = kind.model
    row = session.execute(
        select(model)
        .where(model.id == claimed.row_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if (
        row is None
        or row.state != DeliveryState.PENDING
        or row.next_attempt_at != claimed.lease_until
    ):
        # The lease ran out and another worker claimed the row again: its result stands.
        log.warning("outbox.lease_lost", kind=_name(kind), row_id=str(claimed.row_id))
        return None
    return row


def _record(
    kind: OutboxKind[Item],
    factory: sessionmaker[Session],
    claimed: Claimed[Item],
    sent: Sent,
    now: datetime,
) -> bool:
    with factory() as session, session.begin():
        row = _leased_row(session, kind, claimed)
        if row is None:
            return False
        row.attempts += 1
        if sent.ok:
            row.state = DeliveryState.DELIVERED
            row.delivered_at = now
            row.last_error = None
            kind.delivered(session, row, sent, now)
            return True
        row.last_error = (sent.error or "failed")[:MAX_ERROR]
        retry = None if sent.permanent else kind.retry_at(row, now)
        if retry is not None and sent.retry_after is not None:
            retry = max(retry, now + timedelta(seconds=sent.retry_after))
        if retry is None:
            row.state = DeliveryState.FAILED
        else:
            row.next_attempt_at = retry
        kind.failed(session, row, sent, now)
        return True


def _record_trouble(
    kind: OutboxKind[Item], factory: sessionmaker[Session], claimed: Claimed[Item], now: datetime
) -> bool:
    """Count an attempt whose result could not be recorded as a failed one (no follow-ups), so
    that a row which always fails there reaches its limit instead of being sent forever."""
    try:
        with factory() as session, session.begin():
            row = _leased_row(session, kind, claimed)
            if row is None:
                return False
            row.attempts += 1
            row.last_error = "the result of this attempt could not be recorded (see the logs)"
            retry = kind.retry_at(row, now)
            if retry is None:
                row.state = DeliveryState.FAILED
            else:
                row.next_attempt_at = retry
            return True
    except Exception:  # the database itself is away: the lease brings the row back
        log.exception("outbox.record_failed_again", kind=_name(kind), row_id=str(claimed.row_id))
        return False
