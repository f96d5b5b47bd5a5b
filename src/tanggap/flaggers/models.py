"""Trusted flagger organisations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import String
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
