"""The webhook delivery log as admins see it."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class AttemptOut(BaseModel):
    """One try at sending a webhook."""

    attempted_at: datetime
    status: int | None
    error: str | None
    duration_ms: int


class NotificationOut(BaseModel):
    """A webhook and its delivery history."""

    event_id: uuid.UUID
    org_id: uuid.UUID | None
    audience: str
    report_id: uuid.UUID | None
    event: str
    state: str
    attempts: list[AttemptOut]
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None
