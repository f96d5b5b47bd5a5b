"""Posts in and out."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from tanggap.validation import (
    MAX_BIGINT,
    Handle,
    Input,
    Md5Hex,
    MessageId,
    PdqHex,
    Sha256Hex,
    short_id,
)

MAX_TEXT_CHARS = 16_384
MAX_MEDIA = 10
MAX_MEDIA_BASE64 = 12_000_000
_CLOCK_SKEW = timedelta(minutes=5)
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


class MediaIn(Input):
    """Hashes of one media item (at least one), and where the platform serves it."""

    sha256: Sha256Hex | None = None
    md5: Md5Hex | None = None
    pdq: PdqHex | None = None
    url: str | None = Field(
        default=None,
        max_length=2048,
        pattern=r"^(https?://[^\s]+|/[^\s/][^\s]*)$",
        description="Where reviewers' browsers load the item from the platform "
        "(http(s) URL, or a path on this server); Tanggap never stores the bytes",
    )
    data: str | None = Field(
        default=None,
        max_length=MAX_MEDIA_BASE64,
        description="The file itself, base64: hashed on ingest (PDQ, MD5, SHA-256), then dropped",
    )

    @field_validator("data")
    @classmethod
    def _base64(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ValueError("data must be base64") from exc
        return value

    def raw(self) -> bytes | None:
        """Return the decoded file, when one was sent."""
        return base64.b64decode(self.data) if self.data is not None else None

    @model_validator(mode="after")
    def _needs_one_hash(self) -> MediaIn:
        if not (self.sha256 or self.md5 or self.pdq or self.data):
            raise ValueError("a media item needs its data or at least one of sha256, md5, pdq")
        return self


class HashedMediaIn(MediaIn):
    """A media item whose file Tanggap hashed before ingest: its hashes and its PDQ quality."""

    pdq_quality: int | None = Field(default=None, ge=0, le=100)


class PostIn(Input):
    """One public post pushed by the platform; ``author_id`` is pseudonymised and dropped."""

    model_config = ConfigDict(str_strip_whitespace=False)  # the post's text is evidence: as sent

    channel: Handle
    message_id: MessageId
    text: str = Field(default="", max_length=MAX_TEXT_CHARS)
    media: list[MediaIn] = Field(default_factory=list, max_length=MAX_MEDIA)
    posted_at: AwareDatetime
    views: int | None = Field(default=None, ge=0, le=MAX_BIGINT)
    author_id: Annotated[
        StrictStr | StrictInt,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"\S"},
                    {"type": "integer"},
                ]
            }
        ),
    ] = Field(union_mode="left_to_right")

    @field_validator("author_id")
    @classmethod
    def _author_id_text(cls, value: str | int) -> str:
        return short_id(value, "author_id")

    @field_validator("posted_at")
    @classmethod
    def _not_in_future(cls, value: datetime) -> datetime:
        if value > datetime.now(UTC) + _CLOCK_SKEW:
            raise ValueError("posted_at lies in the future")
        if value < _EARLIEST:
            raise ValueError("posted_at lies before 2000")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _has_content(self) -> PostIn:
        if not self.text.strip() and not self.media:
            raise ValueError("a post needs text or media")
        return self


class PostOut(BaseModel):
    """A stored post, as the platform sees it."""

    channel: str
    message_id: int
    url: str
    posted_at: datetime
    views: int | None
    language: str | None
    media_count: int
    created: bool = False
    changed: list[str] = Field(default_factory=list)


MAX_BATCH = 500


class PostsIn(Input):
    """Many posts at once, stored in one transaction: all or none."""

    posts: list[PostIn] = Field(min_length=1, max_length=MAX_BATCH)


class PostsOut(BaseModel):
    """What a batch did, and each post as stored (in the order sent)."""

    created: int
    updated: int
    unchanged: int
    posts: list[PostOut]
