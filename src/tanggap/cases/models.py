"""Cases (the unit of review) and the decisions taken on them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tanggap.db.base import Base, new_id, utcnow


class Case(Base):
    """One reported post under review: its deadline, queue, claim and state."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_state_deadline", "state", "deadline"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    category: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="und")
    queue: Mapped[str] = mapped_column(String(80), index=True)
    deadline: Mapped[datetime]
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    automated: Mapped[bool] = mapped_column(default=False)
    claimed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("principals.id"))
    lease_expires_at: Mapped[datetime | None]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Decision(Base):
    """What a reviewer (or an automated rule) decided on a case, and why."""

    __tablename__ = "decisions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    countries: Mapped[list[str]] = mapped_column(default=list)
    ground: Mapped[str | None] = mapped_column(String(8))
    policy_ref: Mapped[str | None] = mapped_column(String(200))
    explanation: Mapped[str] = mapped_column(Text)
    automated: Mapped[bool] = mapped_column(default=False)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("principals.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
