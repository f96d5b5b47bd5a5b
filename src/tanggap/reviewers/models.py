"""What a reviewer reads and which restricted categories they are cleared for."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tanggap.db.base import Base


class ReviewerLanguage(Base):
    """One language a reviewer reads (ISO 639 code, as detection names it)."""

    __tablename__ = "reviewer_languages"

    principal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("principals.id"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True, index=True)


class ReviewerClearance(Base):
    """An explicit clearance for one restricted category (child sexual abuse material…)."""

    __tablename__ = "reviewer_clearances"

    principal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("principals.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
