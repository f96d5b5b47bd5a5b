"""The sealer: gives appended events their place in the hash chain, in one total order, and
signs checkpoints of the chain's head. One sealer works at a time across processes.

How it knows that no earlier event can still arrive (docs/architecture.md, "Audit chain"): on
PostgreSQL every event carries the id of the transaction that appended it. Transaction ids are
handed out in increasing order, and a snapshot's ``xmin`` is the oldest transaction still running:
every transaction below it has committed or rolled back. The sealer therefore chains only the
events of transactions below its snapshot's ``xmin``, ordered by (transaction id, append order):
that set can no longer grow, so the chain never skips an event nor waits on one that was rolled
back, and an event appended by a transaction that started earlier but commits later is sealed
after that transaction ends, in its place among the older transactions' events. On SQLite one
writer at a time commits, in the order of the events' ids, and the sealer writes as that writer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import ColumnClause, func, literal_column, select, update
from sqlalchemy.orm import Session, sessionmaker

from tanggap.audit.chain import hash_of
from tanggap.audit.export import Checkpoint
from tanggap.audit.models import AuditChainHead, AuditCheckpoint, AuditEvent
from tanggap.audit.signing import Signed, public_hex, sign
from tanggap.db.base import utcnow

# The advisory lock that makes one sealer at a time (PostgreSQL): "tanggap-audit" as a number.
SEALER_LOCK = 0x74616E67_61756474
SEAL_BATCH = 5000
# What the hash covers, read without building an object per event.
CONTENT = (
    AuditEvent.id,
    AuditEvent.occurred_at,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.subject_type,
    AuditEvent.subject_id,
    AuditEvent.data,
    AuditEvent.free_text,
)
# Below this, every transaction has ended (PostgreSQL 13+).
SNAPSHOT_XMIN: ColumnClause[int] = literal_column(
    "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
)


@dataclass(frozen=True)
class CheckpointRule:
    """When to sign: after ``every`` sealed events, or ``seconds`` after the last signature."""

    every: int
    seconds: float


@dataclass(frozen=True)
class Sealing:
    """What one round did: events sealed, the head after it, the checkpoint signed (if any)."""

    sealed: int
    head_seq: int
    checkpoint: Checkpoint | None
    busy: bool = False  # another sealer held the lock: this round did nothing


def unsealed_waiting(*, session: Session) -> bool:
    """Tell cheaply whether any event waits to be sealed."""
    waiting = select(AuditEvent.id).where(AuditEvent.seq.is_(None)).limit(1)
    return session.execute(waiting).first() is not None


def seal(
    *,
    session: Session,
    key: Ed25519PrivateKey | None,
    rule: CheckpointRule,
    limit: int = SEAL_BATCH,
    now: datetime | None = None,
) -> Sealing:
    """Chain up to ``limit`` waiting events and sign a checkpoint when ``rule`` says so, in the
    caller's transaction (commit it to publish both)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        locked = session.execute(select(func.pg_try_advisory_xact_lock(SEALER_LOCK)))
        if not locked.scalar_one():
            return Sealing(0, -1, None, busy=True)
    head = session.execute(
        select(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    waiting = select(*CONTENT).where(AuditEvent.seq.is_(None))
    if postgres:
        waiting = waiting.where(AuditEvent.xid < SNAPSHOT_XMIN).order_by(
            AuditEvent.xid, AuditEvent.id
        )
    else:
        waiting = waiting.order_by(AuditEvent.id)
    links = []
    for event in session.execute(waiting.limit(limit)):
        seq = head.last_seq + 1
        digest = hash_of(event, seq=seq, prev_hash=head.last_hash)
        links.append({"id": event.id, "seq": seq, "prev_hash": head.last_hash, "hash": digest})
        head.last_seq, head.last_hash = seq, digest
    if links:
        # One statement, executed for every row (by primary key): no object per event.
        session.execute(update(AuditEvent), links)
    session.flush()
    checkpoint = None
    if key is not None:
        checkpoint = _checkpoint(session, head, key, rule, now or utcnow())
    return Sealing(len(links), head.last_seq, checkpoint)


def _checkpoint(
    session: Session,
    head: AuditChainHead,
    key: Ed25519PrivateKey,
    rule: CheckpointRule,
    now: datetime,
) -> Checkpoint | None:
    last = session.execute(
        select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)
    ).scalar_one_or_none()
    if head.last_seq == 0 or (last is not None and last.seq >= head.last_seq):
        return None
    due = (
        last is None
        or head.last_seq - last.seq >= rule.every
        or now - last.signed_at >= timedelta(seconds=rule.seconds)
    )
    if not due:
        return None
    signed = Signed(seq=head.last_seq, hash=head.last_hash, signed_at=now)
    stored = AuditCheckpoint(
        seq=signed.seq,
        hash=signed.hash,
        signed_at=signed.signed_at,
        public_key=public_hex(key),
        signature=sign(key, signed),
    )
    session.add(stored)
    session.flush()
    return Checkpoint.of(stored)


# What a round does with a new checkpoint, in the sealing transaction (queue its publication).
Publish = Callable[[Session, Checkpoint], None]
MAX_BATCHES_PER_ROUND = 20


def seal_round(
    *,
    factory: sessionmaker[Session],
    key: Ed25519PrivateKey | None,
    rule: CheckpointRule,
    publish: Publish,
    limit: int = SEAL_BATCH,
) -> int:
    """Seal what waits, a batch a transaction, and publish each checkpoint signed; return how
    many events were sealed. A round with nothing to do writes nothing."""
    sealed = 0
    for _ in range(MAX_BATCHES_PER_ROUND):
        with factory() as session:
            idle = not unsealed_waiting(session=session) and (
                key is None or not checkpoint_due(session=session, rule=rule, now=utcnow())
            )
        if idle:
            break
        with factory() as session, session.begin():
            sealing = seal(session=session, key=key, rule=rule, limit=limit)
            if sealing.checkpoint is not None:
                publish(session, sealing.checkpoint)
        sealed += sealing.sealed
        if sealing.busy or sealing.sealed < limit:
            break
    return sealed


def checkpoint_due(*, session: Session, rule: CheckpointRule, now: datetime) -> bool:
    """Tell whether the head has moved past the last checkpoint for longer than ``rule`` allows."""
    head_seq = session.execute(
        select(AuditChainHead.last_seq).where(AuditChainHead.id == 1)
    ).scalar_one()
    last = session.execute(
        select(AuditCheckpoint.seq, AuditCheckpoint.signed_at)
        .order_by(AuditCheckpoint.seq.desc())
        .limit(1)
    ).first()
    if head_seq == 0 or (last is not None and last.seq >= head_seq):
        return False
    return last is None or now - last.signed_at >= timedelta(seconds=rule.seconds)
