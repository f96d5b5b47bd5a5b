"""Channel metadata in and out."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tanggap.validation import MAX_BIGINT, CountryCode, Handle, Input, Number


class ChannelIn(Input):
    """Metadata of one public channel, pushed by the platform."""

    handle: Handle
    title: str | None = Field(default=None, max_length=255)
    country: CountryCode | None = None
    subscribers: Number | None = Field(default=None, ge=0, le=MAX_BIGINT)
    description: str | None = Field(default=None, max_length=4000)


class ChannelOut(BaseModel):
    """A channel as the platform sees it."""

    handle: str
    title: str | None
    country: str | None
    subscribers: int | None
    description: str | None
    url: str
    created: bool = False
