"""Hash banks and their entries (hashes only: never the media bytes)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tanggap.db.base import Base, BigIntPK, new_id, utcnow

BankPolicy = Literal["review", "auto_remove", "auto_geo_restrict"]
HashKind = Literal["pdq", "md5", "sha256", "minhash"]


class Bank(Base):
    """A list of hashes of known content, with what to do on a match."""

    __tablename__ = "banks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    category: Mapped[str] = mapped_column(String(64))
    policy: Mapped[BankPolicy] = mapped_column(String(20))
    countries: Mapped[list[str]] = mapped_column(default=list)
    pdq_threshold: Mapped[int] = mapped_column(Integer, default=31)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BankEntry(Base):
    """One hash in a bank: ``pdq`` (64 hex), ``md5`` (32 hex), ``sha256`` (64 hex) or ``minhash``
    (the 512-hex MinHash signature of a normalised text: near-duplicate text, never the text)."""

    __tablename__ = "bank_entries"
    # Ids are never reused (SQLite would hand out the largest again after its row is deleted):
    # every process takes the entries newer than the last id it holds (``banks.changes``).
    __table_args__ = (
        UniqueConstraint("bank_id", "kind", "value"),
        Index("ix_bank_entries_kind_value", "kind", "value"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    bank_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("banks.id"), index=True)
    kind: Mapped[HashKind] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(512))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BankRemoval(Base):
    """A bank entry taken out (a tombstone): every process drops the entries removed since the
    last removal it applied."""

    __tablename__ = "bank_entry_removals"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    entry_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[HashKind] = mapped_column(String(8))
    removed_at: Mapped[datetime] = mapped_column(default=utcnow)
