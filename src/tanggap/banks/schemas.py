"""Banks and entries in and out."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from tanggap.banks.models import BankPolicy, HashKind
from tanggap.detection.models import ScanState
from tanggap.validation import POLICY_CATEGORY, CountryCode, Input, Number

HEX_LENGTH = {"pdq": 64, "md5": 32, "sha256": 64, "minhash": 512}


class BankIn(Input):
    """A new hash bank."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{1,63}$")
    category: str = Field(max_length=64, json_schema_extra={POLICY_CATEGORY: True})
    policy: BankPolicy = "review"
    countries: list[CountryCode] = Field(default_factory=list, max_length=250)
    pdq_threshold: Number = Field(default=31, ge=0, le=128)

    @model_validator(mode="after")
    def _countries_fit_policy(self) -> BankIn:
        if self.policy == "auto_geo_restrict" and not self.countries:
            raise ValueError("countries: auto_geo_restrict needs at least one country")
        if self.policy != "auto_geo_restrict" and self.countries:
            raise ValueError("countries: only auto_geo_restrict takes countries")
        self.countries = sorted(set(self.countries))
        return self


class EntryIn(Input):
    """One hash to add to a bank."""

    kind: HashKind
    value: str = Field(max_length=512)
    label: str | None = Field(default=None, max_length=200)

    @field_validator("value")
    @classmethod
    def _hex_of_its_kind(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        value = value.lower()
        length = HEX_LENGTH.get(kind or "", 0)
        if kind and not re.fullmatch(rf"[0-9a-f]{{{length}}}", value):
            raise ValueError(f"a {kind} hash is {length} hex digits")
        return value


class EntriesIn(Input):
    """Hashes to add, and texts whose MinHash signatures to add (the texts are not kept)."""

    entries: list[EntryIn] = Field(default_factory=list, max_length=10_000)
    texts: list[str] = Field(default_factory=list, max_length=10_000)

    @model_validator(mode="after")
    def _something(self) -> EntriesIn:
        if not self.entries and not self.texts:
            raise ValueError("entries: give at least one hash (or a text in texts)")
        return self


class BankOut(BaseModel):
    """A bank and how many entries it holds."""

    bank_id: uuid.UUID
    name: str
    category: str
    policy: BankPolicy
    countries: list[str]
    pdq_threshold: int
    entries: int
    created_at: datetime


class EntriesAdded(BaseModel):
    """What adding entries did, and the scan of the stored posts it queued."""

    added: int
    already_there: int
    scan_id: uuid.UUID | None = None


class Imported(EntriesAdded):
    """What importing a hash list did: added, already there, and what was left out."""

    unsupported: dict[str, int] = Field(
        description="Signal types skipped (with skip_unsupported), and how many of each"
    )
    not_positive: int = Field(description="CSV rows skipped: their opinion was not POSITIVE_CLASS")


class ScanOut(BaseModel):
    """A retroactive scan and where it stands."""

    scan_id: uuid.UUID
    bank: str | None = Field(description="The bank scanned for, or none for a rules scan")
    rules: list[str] = Field(description="The new or changed rules scanned for")
    state: ScanState
    total: int
    scanned: int
    matched: int
    created_at: datetime
    finished_at: datetime | None
