"""Flagger organisation input and output."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator

from tanggap.validation import EMAIL_PATTERN, Input

Trust = Literal["high", "normal"]


# What ``_http_url`` accepts: http or https, and a host.
WEBHOOK_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://([^/?#@]*@)?[^/?#@:\[\]]"


class FlaggerOrgIn(Input):
    """A new trusted flagger organisation."""

    name: str = Field(min_length=2, max_length=200)
    country: str = Field(pattern=r"^[A-Za-z]{2}$")
    trust: Trust = "normal"
    contact_email: str | None = Field(default=None, max_length=320, pattern=EMAIL_PATTERN)
    webhook_url: str | None = Field(
        default=None, max_length=2048, json_schema_extra={"pattern": WEBHOOK_PATTERN}
    )
    language: Literal["id", "en"] | None = Field(
        default=None, description="Portal language; Indonesian for Indonesian organisations"
    )

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a port that is not 0-65535
        except ValueError as exc:  # an unbalanced "[", a port that is no number
            raise ValueError("webhook_url must be an http:// or https:// URL") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("webhook_url must be an http:// or https:// URL")
        return value


class FlaggerOrgOut(BaseModel):
    """An organisation as an admin sees it (the webhook secret only once, at creation)."""

    org_id: uuid.UUID
    name: str
    country: str
    trust: Trust
    language: str
    contact_email: str | None
    webhook_url: str | None
    created_at: datetime
    webhook_secret: str | None = None


class MemberIn(Input):
    """A person of an organisation who logs into the portal."""

    email: str = Field(max_length=320, pattern=EMAIL_PATTERN)
    name: str | None = Field(default=None, max_length=200)


class MemberOut(BaseModel):
    """A new member and the one-time password to hand over (shown once)."""

    member_id: uuid.UUID
    email: str
    one_time_password: str


class TokenOut(BaseModel):
    """A new API token (shown once) and the id that revokes it."""

    token_id: uuid.UUID
    token: str
