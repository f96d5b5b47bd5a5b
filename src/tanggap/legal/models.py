"""The register's tables: requests, their documents' digests, the letters, signed instructions."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tanggap.db.base import Base, StrEnumType, new_id, utcnow


class RequestKind(StrEnum):
    """What an authority asks for."""

    USER_DATA = "user_data"
    CONTENT_REMOVAL = "content_removal"
    PRESERVATION = "preservation"


class RequestState(StrEnum):
    """Received, assessed by a legal reviewer, then granted, refused or answered."""

    RECEIVED = "received"
    ASSESSED = "assessed"
    GRANTED = "granted"
    REFUSED = "refused"
    ANSWERED = "answered"


class LegalRequest(Base):
    """One request from an authority or a court, and how it was dealt with."""

    __tablename__ = "legal_requests"
    __table_args__ = (Index("ix_legal_requests_received_at", "received_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[RequestKind] = mapped_column(StrEnumType(RequestKind, 16))
    authority: Mapped[str] = mapped_column(String(300))
    country: Mapped[str] = mapped_column(String(2), index=True)
    legal_basis: Mapped[str] = mapped_column(String(500))
    reference: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime]
    # What the request names: {"links": [...], "channels": [...], "pseudonyms": [...],
    # "report_ids": [...]}, each list validated at intake.
    scope: Mapped[dict[str, Any]]
    state: Mapped[RequestState] = mapped_column(
        StrEnumType(RequestState, 16), default=RequestState.RECEIVED
    )
    registered_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("principals.id"))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    assessed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("principals.id"))
    assessed_at: Mapped[datetime | None]
    # The legal reviewer's finding: is it a court order, does it name a criminal suspect, why.
    court_order: Mapped[bool | None]
    names_suspect: Mapped[bool | None]
    finding: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("principals.id"))
    decided_at: Mapped[datetime | None]
    # The data-request policy in force when it was decided (``legal.data_requests``).
    policy: Mapped[str | None] = mapped_column(String(32))


class LegalDocument(Base):
    """A document that came with a request: only its digest, size and media type are kept."""

    __tablename__ = "legal_documents"
    __table_args__ = (UniqueConstraint("request_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("legal_requests.id"))
    position: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(64))


class LegalLetter(Base):
    """The answer to a request in one language, as sent; retention may purge its text later
    (the digest stays)."""

    __tablename__ = "legal_letters"
    __table_args__ = (UniqueConstraint("request_id", "language"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("legal_requests.id"))
    language: Mapped[str] = mapped_column(String(8))
    body: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    rendered_at: Mapped[datetime] = mapped_column(default=utcnow)


class LegalInstruction(Base):
    """The signed instruction to the platform that a granted data request produced."""

    __tablename__ = "legal_instructions"

    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("legal_requests.id"), primary_key=True)
    # The canonical JSON of the document, exactly as signed.
    document: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(16))
    signed_at: Mapped[datetime]
