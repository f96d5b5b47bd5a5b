"""The outbox of statements of reasons for the EU Transparency Database."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tanggap.db.base import Base, StrEnumType, new_id, utcnow
from tanggap.outbox import DeliveryState


class EuStatement(Base):
    """One decision's statement of reasons: pending, sent (``delivered``) or refused
    (``failed``, with the fields and reasons in ``refusals``)."""

    __tablename__ = "eu_statements"
    __table_args__ = (Index("ix_eu_statements_state_next", "state", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decisions.id"), unique=True)
    # The platform's unique id of the statement, derived from the decision's id.
    puid: Mapped[str] = mapped_column(String(500), unique=True)
    # The exact JSON sent, so every retry carries the same statement.
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[DeliveryState] = mapped_column(
        StrEnumType(DeliveryState, 16), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    # An attempt ended without a clear answer (timeout, 5xx): the database may hold the
    # statement already, so the next attempt asks before sending it again.
    maybe_received: Mapped[bool] = mapped_column(default=False)
    # Refused: by whom (``tanggap`` before sending, ``eu_database`` on answer) and, per field,
    # the reasons.
    refused_by: Mapped[str | None] = mapped_column(String(16))
    refusals: Mapped[dict[str, Any] | None]
    # The database's id of the statement, once it holds it.
    eu_uuid: Mapped[str | None] = mapped_column(String(64))
    # The decision was reversed on appeal (the database keeps the statement: it has no update).
    reversed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
