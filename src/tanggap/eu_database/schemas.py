"""Submissions to the EU Transparency Database, as admins read them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Submission = Literal["pending", "sent", "refused"]


class EuStatementOut(BaseModel):
    """One decision's statement of reasons and where its submission stands."""

    statement_id: uuid.UUID
    decision_id: uuid.UUID
    puid: str
    state: Submission
    attempts: int
    next_attempt_at: datetime | None = Field(description="When the next attempt is due (pending).")
    last_status: int | None
    last_error: str | None
    refused_by: Literal["tanggap", "eu_database"] | None = Field(
        description="Who refused it: Tanggap's own check before sending, or the database."
    )
    refusals: dict[str, list[str]] = Field(
        description="The refused fields of the statement, each with its reasons."
    )
    eu_uuid: str | None = Field(description="The database's id of the statement, once sent.")
    reversed_at: datetime | None = Field(
        description="When an appeal reversed the decision (the database keeps the statement)."
    )
    created_at: datetime
    delivered_at: datetime | None
    statement: dict[str, object] = Field(description="The statement as it is (or was) sent.")
