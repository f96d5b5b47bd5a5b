"""What detection stores: text fingerprints for near-duplicates, and signals on posts."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tanggap.db.base import Base, BigIntPK, JSONType, StrEnumType, new_id, utcnow


class ScanState(StrEnum):
    """Where a retroactive scan stands."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class PostFingerprint(Base):
    """The MinHash signature of a post's normalised text."""

    __tablename__ = "post_fingerprints"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    minhash: Mapped[str] = mapped_column(String(512))


class FingerprintBand(Base):
    """One LSH band of a fingerprint: posts sharing a (band, key) are near-duplicate candidates."""

    __tablename__ = "fingerprint_bands"
    __table_args__ = (Index("ix_fingerprint_bands_band_key", "band", "key"),)

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(16))


class Signal(Base):
    """Something detection found on a post: what matched, by what, how close."""

    __tablename__ = "signals"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(120))
    score: Mapped[float] = mapped_column(Float)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # reports' periods


class ScanJob(Base):
    """A retroactive scan of the stored posts against one bank, or against rules that were added
    or changed; resumable from its cursor. Posts stored after it was queued were matched on
    ingest, so it stops at ``upto_post_id``."""

    __tablename__ = "scan_jobs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    bank_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("banks.id"), index=True)
    rule_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    upto_post_id: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[ScanState] = mapped_column(
        StrEnumType(ScanState, 16), default=ScanState.PENDING, index=True
    )
    last_post_id: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    scanned: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class RuleVersion(Base):
    """The digest of each rule last scanned for: a rule whose digest changes (or a new rule)
    queues a retroactive scan once, whichever process notices first."""

    __tablename__ = "rule_versions"

    rule_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RuleSetVersion(Base):
    """The rule set in force everywhere (one row): the digest of the rule files' content and a
    counter raised by each reload that changed it. Every process compares the counter with the
    one it loaded and reloads its files when it moved."""

    __tablename__ = "rule_set_version"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    counter: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
