"""What detection stores: text fingerprints for near-duplicates, and signals on posts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tanggap.db.base import Base, BigIntPK, JSONType, utcnow


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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
