"""Channel metadata in and out."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, WithJsonSchema

from tanggap.validation import MAX_BIGINT, CountryCode, Handle, Input, Number


class ChannelIn(Input):
    """Metadata of one public channel, pushed by the platform."""

    handle: Handle
    title: str | None = Field(default=None, max_length=255)
    country: CountryCode | None = None
    # Said in JSON Schema's words: pydantic writes the bounds of a validated integer as its own
    # ge/le keys, which no client reads.
    subscribers: (
        Annotated[
            Number,
            Field(ge=0, le=MAX_BIGINT),
            WithJsonSchema({"type": "integer", "minimum": 0, "maximum": MAX_BIGINT}),
        ]
        | None
    ) = None
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
