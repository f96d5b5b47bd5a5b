"""Actions: effects of decisions on the platform, kept in an outbox until delivered."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tanggap.db.base import Base, StrEnumType, new_id, utcnow
from tanggap.outbox import DeliveryState

ActionKind = Literal[
    "remove_post",
    "geo_restrict_post",
    "ban_channel",
    "restore_post",
    "restore_channel",
    "ban_member",
    "unban_member",
]


class Action(Base):
    """One effect to deliver through the platform adapter; its id is the idempotency key."""

    __tablename__ = "actions"
    __table_args__ = (Index("ix_actions_state_next", "state", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decisions.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[ActionKind] = mapped_column(String(24))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    countries: Mapped[list[str]] = mapped_column(default=list)
    ground: Mapped[Literal["law", "terms"] | None] = mapped_column(String(8))
    policy_ref: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[DeliveryState] = mapped_column(
        StrEnumType(DeliveryState, 16), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
