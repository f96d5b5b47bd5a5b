"""Purge the free text of audit events: the words go, their digests stay in the chain."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tanggap.audit.chain import PURGED_TEXT, canonical_json, text_digest
from tanggap.audit.models import AuditEvent

PURGE_BATCH = 1000


def purge_texts(
    *,
    session: Session,
    now: datetime,
    actions: Collection[str] | None = None,
    before: datetime | None = None,
    subject_ids: Collection[str] | None = None,
    limit: int = PURGE_BATCH,
) -> int:
    """Replace the free texts of up to ``limit`` events (of ``actions``, that happened before
    ``before``, about ``subject_ids``: each when given) by a marker, keeping their digests, and
    return how many events were purged. Events written before free text was sealed apart
    (``free_text`` empty) are never touched: their data is hashed whole. Rows another purge
    holds are skipped, so two purges at once never purge (nor count) an event twice."""
    chosen = (
        select(AuditEvent.id, AuditEvent.data, AuditEvent.free_text)
        .where(AuditEvent.free_text.is_not(None), AuditEvent.purged_at.is_(None))
        .order_by(AuditEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if actions is not None:
        chosen = chosen.where(AuditEvent.action.in_(list(actions)))
    if before is not None:
        chosen = chosen.where(AuditEvent.occurred_at < before)
    if subject_ids is not None:
        chosen = chosen.where(AuditEvent.subject_id.in_(list(subject_ids)))
    changes = []
    for event_id, data, free_text in session.execute(chosen).all():
        values = json.loads(data)
        seals: dict[str, dict[str, str]] = json.loads(free_text or "{}")
        for name, seal in seals.items():
            if "salt" in seal:
                text = values.get(name)
                digest = text_digest(salt=seal["salt"], text=text if isinstance(text, str) else "")
                seals[name] = {"sha256": digest}
            values[name] = PURGED_TEXT
        changes.append(
            {
                "id": event_id,
                "data": canonical_json(values),
                "free_text": canonical_json(seals),
                "purged_at": now,
            }
        )
    if changes:
        session.execute(update(AuditEvent), changes)
    return len(changes)
