"""Public posts and the hashes of their media."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tanggap.db.base import Base, BigIntPK, utcnow
from tanggap.pseudonyms import DEFAULT_KEY_ID


class Post(Base):
    """One public message of a channel; its author is only a keyed pseudonym."""

    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("channel_id", "message_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    message_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text, default="")
    posted_at: Mapped[datetime]
    views: Mapped[int | None] = mapped_column(BigInteger)
    author_ref: Mapped[str] = mapped_column(String(64), index=True)
    # The id of the pseudonym key ``author_ref`` was made with (``pseudonyms.Keyring``).
    key_id: Mapped[str] = mapped_column(String(32), server_default=DEFAULT_KEY_ID)
    language: Mapped[str | None] = mapped_column(String(8))
    ingested_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The platform principal that sent it first: its owner, the only one that may send it again,
    # appeal its decision and read its statement of reasons.
    ingested_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("principals.id"), index=True
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    media: Mapped[list[PostMedia]] = relationship(
        order_by="PostMedia.position", cascade="all, delete-orphan", lazy="select"
    )


class PostMedia(Base):
    """Hashes of one media item of a post; the bytes are never kept."""

    __tablename__ = "post_media"
    __table_args__ = (UniqueConstraint("post_id", "position"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    md5: Mapped[str | None] = mapped_column(String(32), index=True)
    pdq: Mapped[str | None] = mapped_column(String(64))
    # PDQ quality (0-100) when Tanggap hashed the image itself; below the floor no pdq is kept.
    pdq_quality: Mapped[int | None] = mapped_column(Integer)
    # The image was sent as bytes and waits for its PDQ hash (in memory, never stored): still
    # true after a restart means the bytes were lost and the platform must send them again.
    pdq_pending: Mapped[bool] = mapped_column(default=False)
    # Where the platform serves the item; the console shows it (blurred when graphic).
    url: Mapped[str | None] = mapped_column(String(2048))


class PseudonymLink(Base):
    """An author's pseudonym under an older key, linked to their pseudonym under the key that
    was current when they were seen again (written at ingest while the ring has older keys), so
    that what is known of an author is found whichever key their posts were stored under."""

    __tablename__ = "pseudonym_links"

    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    current_ref: Mapped[str] = mapped_column(String(64), index=True)
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
