"""What the register takes in and gives out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from tanggap.errors import InvalidInput
from tanggap.legal.models import RequestKind, RequestState
from tanggap.reports.links import LinkError, parse_post_link
from tanggap.validation import (
    EMAIL_PATTERN,
    CountryCode,
    Input,
    bounded_time,
    normalise_handle,
)

MAX_SCOPE_ITEMS = 500
PSEUDONYM_LENGTH = 64  # a keyed pseudonym: HMAC-SHA256, hex (tanggap.pseudonyms)


class LegalRequestIn(Input):
    """A request from an authority or a court, as registered by a legal officer, with what it
    names: public links, channels, pseudonyms, and the reports it produced."""

    kind: RequestKind
    authority: str = Field(min_length=1, max_length=300)
    country: CountryCode
    legal_basis: str = Field(min_length=1, max_length=500)
    reference: str = Field(min_length=1, max_length=200)
    received_at: datetime
    links: list[str] = Field(default_factory=list, max_length=MAX_SCOPE_ITEMS)
    channels: list[str] = Field(default_factory=list, max_length=MAX_SCOPE_ITEMS)
    pseudonyms: list[str] = Field(default_factory=list, max_length=MAX_SCOPE_ITEMS)
    report_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_SCOPE_ITEMS)

    @field_validator("links")
    @classmethod
    def _links(cls, value: list[str]) -> list[str]:
        canonical = []
        for index, link in enumerate(value):
            try:
                canonical.append(parse_post_link(link).url)
            except LinkError as exc:
                raise ValueError(f"link {index + 1}: {exc}") from None
        return sorted(set(canonical))

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        handles = []
        for index, handle in enumerate(value):
            try:
                handles.append(normalise_handle(handle))
            except ValueError as exc:
                raise ValueError(f"channel {index + 1}: {exc}") from None
        return sorted(set(handles))

    @field_validator("pseudonyms")
    @classmethod
    def _pseudonyms(cls, value: list[str]) -> list[str]:
        refs = []
        for index, ref in enumerate(value):
            text = ref.strip().lower()
            if len(text) != PSEUDONYM_LENGTH or any(c not in "0123456789abcdef" for c in text):
                raise ValueError(
                    f"pseudonym {index + 1}: a pseudonym is 64 hexadecimal characters "
                    "(Tanggap keeps no platform user ids)"
                )
            refs.append(text)
        return sorted(set(refs))

    @field_validator("received_at")
    @classmethod
    def _received_at(cls, value: datetime) -> datetime:
        try:
            return bounded_time(value, "received_at")
        except InvalidInput as exc:
            raise ValueError(exc.message) from None


@dataclass(frozen=True)
class Document:
    """An uploaded document, already read: what is kept of it (never its bytes)."""

    sha256: str
    size: int
    media_type: str


class AssessmentIn(Input):
    """A legal reviewer's finding on a request."""

    court_order: bool
    names_suspect: bool
    finding: str = Field(min_length=1, max_length=5000)


Outcome = Literal["grant", "refuse", "answer"]


class LegalDecisionIn(Input):
    """What becomes of an assessed request: a data request granted (four eyes) or refused;
    a removal or preservation request answered."""

    outcome: Outcome


class DocumentOut(BaseModel):
    """A document's digest, size and media type."""

    sha256: str
    size: int
    media_type: str


LinkState = Literal["actioned", "declined", "objected", "pending"]


class LinkOutcome(BaseModel):
    """What became of one report a removal request produced."""

    report_id: uuid.UUID
    case_id: uuid.UUID
    outcome: LinkState


class LegalRequestOut(BaseModel):
    """A request in the register and where it stands."""

    request_id: uuid.UUID
    kind: RequestKind
    authority: str
    country: str
    legal_basis: str
    reference: str
    received_at: datetime
    scope: dict[str, list[str]]
    state: RequestState
    registered_at: datetime
    assessed_at: datetime | None
    court_order: bool | None
    names_suspect: bool | None
    finding: str | None
    decided_at: datetime | None
    policy: str | None
    documents: list[DocumentOut]
    links: list[LinkOutcome] = Field(default_factory=list)
    letters: list[str] = Field(default_factory=list)
    instruction: bool = False


class RequestFilter(BaseModel):
    """Which requests a list shows."""

    kind: RequestKind | None = None
    country: str | None = None
    state: RequestState | None = None
    since: datetime | None = None
    until: datetime | None = None


class InstructionOut(BaseModel):
    """The signed instruction: the document, its Ed25519 signature, and the key that made it."""

    document: dict[str, object]
    canonical: str
    signature: str
    key_id: str
    signed_at: datetime


class OfficerIn(Input):
    """A legal officer's account."""

    email: str = Field(max_length=320, pattern=EMAIL_PATTERN)
    name: str | None = Field(default=None, max_length=200)
