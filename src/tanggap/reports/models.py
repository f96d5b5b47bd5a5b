"""Reports (someone's claim that a post breaks a rule) and the thread of messages on each."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Literal

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tanggap.db.base import Base, StrEnumType, new_id, utcnow

ThreadSide = Literal["flagger", "platform"]
MessageKind = Literal["message", "objection"]


class ReportStatus(StrEnum):
    """Received (stored), triaged (in a reviewers' queue with its priority), in review (a
    reviewer holds its case), then actioned, declined or objected to."""

    RECEIVED = "received"
    TRIAGED = "triaged"
    IN_REVIEW = "in_review"
    ACTIONED = "actioned"
    DECLINED = "declined"
    OBJECTED = "objected"


class Report(Base):
    """One report on one post; its deadline is fixed at intake."""

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_post_status", "post_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    source: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    order_type: Mapped[str] = mapped_column(String(16), default="notice")
    legal_basis: Mapped[str | None] = mapped_column(String(500))
    issuing_authority: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    flagger_org_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("flagger_orgs.id"), index=True
    )
    reporter_ref: Mapped[str | None] = mapped_column(String(64))
    # The id of the pseudonym key ``reporter_ref`` was made with (``pseudonyms.Keyring``).
    key_id: Mapped[str | None] = mapped_column(String(32))
    submitted_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("principals.id"), index=True)
    status: Mapped[ReportStatus] = mapped_column(
        StrEnumType(ReportStatus, 16), default=ReportStatus.RECEIVED
    )
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # reports' periods
    deadline: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    # The decision that settled this report (a case may be decided again after reopening).
    decision_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("decisions.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReportMessage(Base):
    """One message of the thread between a flagger organisation and the platform on a report."""

    __tablename__ = "report_messages"
    __table_args__ = (Index("ix_report_messages_report_created", "report_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id"))
    # What the other side sees: never a reviewer's name.
    author_role: Mapped[ThreadSide] = mapped_column(String(16))
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("principals.id"))
    kind: Mapped[MessageKind] = mapped_column(String(16), default="message")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_by_flagger_at: Mapped[datetime | None]
    read_by_platform_at: Mapped[datetime | None]
