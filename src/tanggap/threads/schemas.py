"""Thread messages in and out: the author is a role, never a person."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from tanggap.validation import Input


class MessageIn(Input):
    """A message on a report's thread."""

    body: str = Field(min_length=1, max_length=5000)


class ObjectionIn(Input):
    """A reasoned objection (sanggahan) to a flagger's report instead of acting on it."""

    report_id: uuid.UUID
    reason: str = Field(min_length=10, max_length=5000)


class MessageOut(BaseModel):
    """A message as either side sees it."""

    message_id: uuid.UUID
    author_role: Literal["flagger", "platform"]
    kind: Literal["message", "objection"]
    body: str
    created_at: datetime
    read_by_flagger_at: datetime | None
    read_by_platform_at: datetime | None


class Thread(BaseModel):
    """A report's whole thread, oldest first."""

    report_id: uuid.UUID
    messages: list[MessageOut]
