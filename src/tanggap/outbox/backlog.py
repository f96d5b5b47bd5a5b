"""How far behind an outbox is: its rows due now, and how long the longest-due has waited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tanggap.outbox.retry import DeliveryState


@dataclass(frozen=True)
class Backlog:
    """The rows of an outbox due now, and the earliest time one of them fell due."""

    due: int
    oldest_due_at: datetime | None

    def oldest_due_seconds(self, now: datetime) -> float:
        """Return how long the longest-due row has waited past its due time (0 if none)."""
        if self.oldest_due_at is None:
            return 0.0
        return max(0.0, (now - self.oldest_due_at).total_seconds())


def backlog(*, session: Session, model: type[Any], now: datetime) -> Backlog:
    """Return the backlog of an outbox table (``state``, ``next_attempt_at``): pending rows
    whose time has come. A claimed row's time is the end of its lease, so it is not due."""
    due, oldest = session.execute(
        select(func.count(), func.min(model.next_attempt_at)).where(
            model.state == DeliveryState.PENDING, model.next_attempt_at <= now
        )
    ).one()
    return Backlog(int(due), oldest)
