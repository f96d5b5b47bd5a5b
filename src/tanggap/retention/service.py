"""One round of retention: every kind purged at its age, a batch a transaction, and counted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from tanggap.audit import service as audit
from tanggap.db.base import utcnow
from tanggap.metrics import RETENTION_PURGED
from tanggap.policy.schemas import Retention
from tanggap.retention.kinds import KINDS, Batch

RETENTION_ACTOR = "system:retention"
PURGE_BATCH = 500
# A round stops a kind after this many batches; the next round goes on where it stopped.
MAX_BATCHES_PER_KIND = 40


def purge_round(
    *,
    factory: sessionmaker[Session],
    retention: Retention,
    now: datetime | None = None,
    dry_run: bool = False,
    batch_size: int = PURGE_BATCH,
) -> dict[str, int]:
    """Purge every kind of data older than its retention, each batch in a transaction of its
    own (no lock held long), and return how many rows of each kind were purged; with
    ``dry_run``, how many would be, writing nothing. A round that purged anything records
    one audit event with its counts."""
    now = now or utcnow()
    counts: dict[str, int] = {}
    for kind, purge in KINDS.items():
        counts[kind] = 0
        if purge is None:
            continue
        cutoff = now - getattr(retention, kind)
        if dry_run:
            with factory() as session:
                counts[kind] = purge(Batch(session, cutoff, now, batch_size, dry_run=True))
            continue
        for _ in range(MAX_BATCHES_PER_KIND):
            with factory() as session, session.begin():
                done = purge(Batch(session, cutoff, now, batch_size))
            counts[kind] += done
            if done < batch_size:
                break
    if not dry_run and any(counts.values()):
        with factory() as session, session.begin():
            audit.record(
                session=session,
                actor=RETENTION_ACTOR,
                action="retention.purged",
                subject_type="retention",
                subject_id="round",
                data={"counts": counts},
            )
        for kind, purged in counts.items():
            if purged:
                RETENTION_PURGED.labels(kind).inc(purged)
    return counts
