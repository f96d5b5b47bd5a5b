"""Trusted flagger organisations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tanggap.db.base import Base, new_id, utcnow


class FlaggerOrg(Base):
    """An organisation (a ministry's cyber desk, a hotline) reporting through the direct channel."""

    __tablename__ = "flagger_orgs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # SHA-256 of the name as compared (tanggap.validation.folded): "Ébène Desk" and "ébène  desk"
    # are one organisation. Folded in Python, since SQLite's lower() folds ASCII letters only;
    # hashed, since folding may lengthen a name beyond its column.
    name_key: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    country: Mapped[str] = mapped_column(String(2))
    trust: Mapped[Literal["high", "normal"]] = mapped_column(String(16), default="normal")
    contact_email: Mapped[str | None] = mapped_column(String(320))
    # Portal language for the organisation's members: Indonesian for Indonesian organisations.
    language: Mapped[str] = mapped_column(String(8), default="en")
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    # Shared secret that signs webhooks (HMAC-SHA256); it must be readable to sign with.
    webhook_secret: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]


class TelegramLink(Base):
    """A member's Telegram account, linked with a one-time code from the portal: how the
    flaggers' bot knows them and reaches them. The member consented; unlinking deletes it.
    No raw Telegram id is kept (``flaggers.telegram_ids``)."""

    __tablename__ = "telegram_links"

    # A new row on every link, so that a notice sent through an earlier link never answers
    # for this one (a reply finds its notice by link and message id).
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    principal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("principals.id"), unique=True)
    # HMAC-SHA256 of the Telegram user id under the links' lookup key: how a message finds
    # its member.
    user_digest: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    # The private chat's id, sealed (AES-GCM) for this row: opened only to send a notice.
    sealed_chat_id: Mapped[str] = mapped_column(String(128))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


class TelegramLinkCode(Base):
    """The one code a member may send the bot to link their account: short-lived, single use,
    kept only as its SHA-256; a new code replaces the old."""

    __tablename__ = "telegram_link_codes"

    principal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("principals.id"), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BotSubmission(Base):
    """Links a member sent the bot without a category, held until they press one (once)."""

    __tablename__ = "bot_submissions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    principal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("principals.id"), index=True)
    # The links, one per line, as the member sent them.
    links: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
