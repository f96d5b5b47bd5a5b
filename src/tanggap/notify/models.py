"""The notification outboxes: webhooks to flagger organisations and their delivery log, and
the flaggers' bot notices."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tanggap.db.base import Base, StrEnumType, new_id, utcnow
from tanggap.outbox import DeliveryState


class Notification(Base):
    """One webhook to send; its id is the ``X-Tanggap-Event-Id`` a receiver dedupes on."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_state_next", "state", "next_attempt_at"),
        Index("ix_notifications_report_created", "report_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # flagger: to the organisation's webhook; leads: to the platform's lead alert webhook.
    audience: Mapped[str] = mapped_column(String(16), default="flagger")
    org_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("flagger_orgs.id"), index=True)
    report_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("reports.id"))
    event: Mapped[str] = mapped_column(String(48))
    # The exact body sent, so every retry carries the same bytes.
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[DeliveryState] = mapped_column(
        StrEnumType(DeliveryState, 16), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class DeliveryAttempt(Base):
    """One try at sending a notification: the delivery log admins read."""

    __tablename__ = "notification_attempts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    notification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notifications.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)


class BotNotice(Base):
    """One bot message to the linked member who sent a report: queued with the change it tells
    of, sent by the outbox engine; its message id in the chat lets a reply reach the report's
    thread."""

    __tablename__ = "bot_notices"
    __table_args__ = (
        Index("ix_bot_notices_state_next", "state", "next_attempt_at"),
        Index("ix_bot_notices_report_created", "report_id", "created_at"),
        Index("ix_bot_notices_link_message", "link_id", "sent_message_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    principal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("principals.id"), index=True)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id"))
    event: Mapped[str] = mapped_column(String(48))
    # The exact text sent, in the organisation's language, so every retry says the same.
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[DeliveryState] = mapped_column(
        StrEnumType(DeliveryState, 16), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    # Once sent: the link it went through and its message id in that chat (no Telegram id of
    # the person: the link row holds those, and goes on unlink).
    link_id: Mapped[uuid.UUID | None]
    sent_message_id: Mapped[int | None] = mapped_column(BigInteger)
