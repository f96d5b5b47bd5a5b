"""Actions as operators see them."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class ActionDetail(BaseModel):
    """One action in the outbox and where its delivery stands."""

    action_id: uuid.UUID
    case_id: uuid.UUID
    decision_id: uuid.UUID
    kind: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
