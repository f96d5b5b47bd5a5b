"""Reviewer accounts in and out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from tanggap.validation import EMAIL_PATTERN, Input

ReviewerRole = Literal["reviewer", "lead", "admin"]
LANGUAGE_PATTERN = r"^[a-z]{2,3}$"


class ReviewerIn(Input):
    """A person of the platform's trust-and-safety team who reviews cases."""

    email: str = Field(max_length=320, pattern=EMAIL_PATTERN)
    name: str | None = Field(default=None, max_length=200)
    role: ReviewerRole = "reviewer"
    languages: list[str] = Field(min_length=1, max_length=20)
    clearances: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        cleaned = sorted({code.strip().lower() for code in value})
        for code in cleaned:
            if not code or len(code) > 3 or not code.isalpha() or not code.isascii():
                raise ValueError(f"{code!r} is not a language code like id, en or ms")
        return cleaned


@dataclass(frozen=True)
class Skills:
    """What a reviewer may take: their role, languages, clearances, and whether they paused."""

    principal_id: uuid.UUID
    role: str
    languages: frozenset[str] = field(default_factory=frozenset)
    clearances: frozenset[str] = field(default_factory=frozenset)
    paused: bool = False


class ReviewerOut(BaseModel):
    """A reviewer account (its one-time password only when just created)."""

    reviewer_id: uuid.UUID
    email: str
    role: ReviewerRole
    languages: list[str]
    clearances: list[str]
    paused: bool
    one_time_password: str | None = None
