"""Audit tables: the event log, the head of its hash chain, and the signed checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, FetchedValue, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from tanggap.db.base import Base, BigIntPK


class AuditEvent(Base):
    """One state change. Appended unsealed by the transaction that made the change; the sealer
    later gives it its place in the chain (``seq``) and links it to the event before it."""

    __tablename__ = "audit_events"

    # The order of appending (within one transaction, the order of its events).
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # PostgreSQL: the appending transaction's id (pg_current_xact_id, the column's default since
    # migration 0012), which tells the sealer when no transaction that could still commit an
    # earlier event is left. SQLite: none (one writer).
    xid: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())
    occurred_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    # Canonical JSON text, hashed byte for byte; JSONB would re-encode it.
    data: Mapped[str] = mapped_column(Text)
    # The free texts a person wrote, among ``data``'s fields (canonical JSON, name -> seal): the
    # hash covers each one's digest, not its words, so the words can be purged and the chain
    # still verifies. A seal holds the digest's salt while the text is kept, the digest alone
    # once it is purged. None for events without free text and for every event written before
    # migration 0018 (their data is hashed whole: their text cannot be purged).
    free_text: Mapped[str | None] = mapped_column(Text)
    purged_at: Mapped[datetime | None]
    # Set once, by the sealer; None while the event waits to be sealed.
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index(
            "ix_audit_events_unsealed",
            "xid",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
    )


class AuditChainHead(Base):
    """The single row naming the newest sealed event; only the sealer moves it."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """The chain's head at one moment, signed with the checkpoint key (Ed25519): whoever keeps
    a copy can later prove that the events up to ``seq`` were not rewritten."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime]
    # The public key (32 bytes, hex) whose private half signed; the key id is its digest's start.
    public_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
