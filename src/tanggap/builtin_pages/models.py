"""State of the built-in platform pages: what is removed, restricted or banned there."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tanggap.db.base import Base, BigIntPK, utcnow

RestrictionKind = Literal["removed", "geo_restricted", "banned", "restored"]


class Restriction(Base):
    """One restriction the built-in platform applied; ``action_key`` makes delivery idempotent."""

    __tablename__ = "platform_restrictions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    action_key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[RestrictionKind] = mapped_column(String(16))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    countries: Mapped[list[str]] = mapped_column(default=list)
    ground: Mapped[str | None] = mapped_column(String(8))
    policy_ref: Mapped[str | None] = mapped_column(String(200))
    policy_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_at: Mapped[datetime | None]
    lift_reason: Mapped[str | None] = mapped_column(Text)
