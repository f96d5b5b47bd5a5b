"""Public channels of the platform."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tanggap.db.base import Base, BigIntPK, utcnow
from tanggap.pseudonyms import DEFAULT_KEY_ID


class Channel(Base):
    """A public channel or group, known by its lower-case handle."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str | None] = mapped_column(String(255))
    country: Mapped[str | None] = mapped_column(String(2))
    subscribers: Mapped[int | None] = mapped_column(BigInteger)
    description: Mapped[str | None] = mapped_column(Text)
    # The platform the channel lives on (``builtin``, ``http``, ``telegram``); None: the one
    # configured (TANGGAP_PLATFORM). ``platform_ref`` is the platform's own id of the chat
    # (Telegram's chat id), which outlives a change of handle.
    platform: Mapped[str | None] = mapped_column(String(16))
    platform_ref: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TelegramMember(Base):
    """A member who posted in a Telegram group: their Telegram id sealed (``platforms.sealing``),
    so that the bot can ban them; known to Tanggap otherwise only by their pseudonym."""

    __tablename__ = "telegram_members"
    __table_args__ = (UniqueConstraint("chat_ref", "author_ref"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # Telegram's chat id (``Channel.platform_ref``) and the member's pseudonym
    # (``Post.author_ref``).
    chat_ref: Mapped[str] = mapped_column(String(64))
    author_ref: Mapped[str] = mapped_column(String(64))
    sealed_id: Mapped[str] = mapped_column(String(128))
    # The id of the pseudonym key ``author_ref`` was made with (``pseudonyms.Keyring``).
    key_id: Mapped[str] = mapped_column(String(32), server_default=DEFAULT_KEY_ID)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
