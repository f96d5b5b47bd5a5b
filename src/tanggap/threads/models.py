"""Thread messages on reports."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tanggap.db.base import Base, new_id, utcnow


class ReportMessage(Base):
    """One message of the thread between a flagger organisation and the platform on a report."""

    __tablename__ = "report_messages"
    __table_args__ = (Index("ix_report_messages_report_created", "report_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id"))
    # "flagger" or "platform": what the other side sees; never a reviewer's name.
    author_role: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("principals.id"))
    kind: Mapped[str] = mapped_column(String(16), default="message")  # message | objection
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_by_flagger_at: Mapped[datetime | None]
    read_by_platform_at: Mapped[datetime | None]
