"""Read the webhook delivery log."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.notify.models import DeliveryAttempt, Notification
from tanggap.notify.schemas import AttemptOut, NotificationOut


def delivery_log(
    *,
    session: Session,
    org_id: uuid.UUID | None,
    state: str | None,
    limit: int,
) -> list[NotificationOut]:
    """Return notifications, newest first, with every attempt."""
    query = select(Notification)
    if org_id is not None:
        query = query.where(Notification.org_id == org_id)
    if state is not None:
        query = query.where(Notification.state == state)
    found = list(
        session.execute(query.order_by(Notification.created_at.desc()).limit(limit)).scalars()
    )
    attempts: dict[uuid.UUID, list[AttemptOut]] = {n.id: [] for n in found}
    for attempt in session.execute(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.notification_id.in_(list(attempts)))
        .order_by(DeliveryAttempt.attempted_at)
    ).scalars():
        attempts[attempt.notification_id].append(
            AttemptOut(
                attempted_at=attempt.attempted_at,
                status=attempt.status,
                error=attempt.error,
                duration_ms=attempt.duration_ms,
            )
        )
    return [
        NotificationOut(
            event_id=n.id,
            org_id=n.org_id,
            audience=n.audience,
            report_id=n.report_id,
            event=n.event,
            state=n.state,
            attempts=attempts[n.id],
            created_at=n.created_at,
            next_attempt_at=n.next_attempt_at,
            delivered_at=n.delivered_at,
        )
        for n in found
    ]
