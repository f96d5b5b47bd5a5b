"""Read a stream message as a post or a channel's metadata, and write the dead letter of one
that is refused."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import ConfigDict, Field, ValidationError, model_validator

from tanggap.channels.schemas import ChannelIn
from tanggap.errors import TanggapError
from tanggap.posts.schemas import MAX_MEDIA, MediaIn, PostIn
from tanggap.validation import MAX_JSON_DEPTH, Input, json_depth, validation_details

MESSAGE = "message"  # the field named when the message as a whole is refused
TYPE_HEADER = "Tanggap-Type"  # what a message carries: a post (the default) or a channel
TYPES = ("post", "channel")
M = TypeVar("M", bound=Input)


@dataclass(frozen=True)
class Refusal:
    """Why a message is not stored: a code (the metric's label), the field, the reason."""

    code: str
    field: str
    reason: str


@dataclass(frozen=True)
class Origin:
    """Where a message came from in the stream."""

    stream: str
    subject: str
    sequence: int
    deliveries: int


class ObjectRef(Input):
    """A file kept in a JetStream object store: the bucket and the object's name."""

    model_config = ConfigDict(str_strip_whitespace=False)  # a name is matched as written

    bucket: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=1024)


class StreamMediaIn(MediaIn):
    """A media item of a stream post: what ``MediaIn`` takes, or a file in an object store."""

    object: ObjectRef | None = None

    @model_validator(mode="after")
    def _needs_one_hash(self) -> StreamMediaIn:  # replaces MediaIn's check of the same name
        if self.data is not None and self.object is not None:
            raise ValueError("a media item carries its data or names an object, not both")
        if not (self.sha256 or self.md5 or self.pdq or self.data or self.object):
            raise ValueError(
                "a media item needs its data, an object or at least one of sha256, md5, pdq"
            )
        return self


class StreamPostIn(PostIn):
    """A post from the stream: ``PostIn``, whose media may also name an object-store file."""

    media: list[StreamMediaIn] = Field(  # type: ignore[assignment]
        default_factory=list, max_length=MAX_MEDIA
    )

    def has_files(self) -> bool:
        """Tell whether any media item carries a file to hash (inline or in an object store)."""
        return any(item.data is not None or item.object is not None for item in self.media)


def _body(data: bytes, max_bytes: int) -> object | Refusal:
    """Return the JSON of a message, or why it is refused."""
    if len(data) > max_bytes:
        return Refusal(
            "too_large", MESSAGE, f"the message has {len(data)} bytes; at most {max_bytes}"
        )
    try:
        body = json.loads(data)
    except ValueError as exc:  # UnicodeDecodeError too
        return Refusal("invalid_json", MESSAGE, f"the message is not valid JSON: {exc}")
    except RecursionError:
        return Refusal("invalid_json", MESSAGE, "the message nests too deep")
    if json_depth(body) > MAX_JSON_DEPTH:
        return Refusal("invalid_json", MESSAGE, "the message nests too deep")
    return body


def _validated(model: type[M], body: object) -> M | Refusal:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = validation_details([dict(e) for e in exc.errors()])[0]
        field = MESSAGE if first["field"] == "body" else str(first["field"])
        return Refusal("invalid_input", field, str(first["message"]))


def read_post(data: bytes, *, max_bytes: int) -> StreamPostIn | Refusal:
    """Return the post a message carries (``PostIn`` JSON), or why it is refused."""
    body = _body(data, max_bytes)
    return body if isinstance(body, Refusal) else _validated(StreamPostIn, body)


def read_channel(data: bytes, *, max_bytes: int) -> ChannelIn | Refusal:
    """Return the channel metadata a message carries (``ChannelIn`` JSON), or why it is refused."""
    body = _body(data, max_bytes)
    return body if isinstance(body, Refusal) else _validated(ChannelIn, body)


def read_message(
    data: bytes, headers: Mapping[str, str] | None, *, max_bytes: int
) -> StreamPostIn | ChannelIn | Refusal:
    """Read a message as its ``Tanggap-Type`` header says: a post when absent, or a channel."""
    kind = (headers or {}).get(TYPE_HEADER, "post")
    if kind == "channel":
        return read_channel(data, max_bytes=max_bytes)
    if kind != "post":
        return Refusal(
            "invalid_input", TYPE_HEADER, f"{kind!r} is not a message type ({', '.join(TYPES)})"
        )
    return read_post(data, max_bytes=max_bytes)


def refusal_of(error: TanggapError) -> Refusal:
    """Return the refusal of a post the service would not store."""
    return Refusal(error.code, error.field or MESSAGE, error.message)


def dead_letter(refusal: Refusal, *, data: bytes, origin: Origin, max_bytes: int) -> bytes:
    """Return the dead letter of a refused message: the reason, the field, where it came from
    and the message as it came, less any file's bytes (left out when over ``max_bytes``; the
    stream still holds it until its retention drops it)."""
    letter: dict[str, object] = {
        "error": refusal.code,
        "field": refusal.field,
        "reason": f"{refusal.field}: {refusal.reason}",
        "stream": origin.stream,
        "subject": origin.subject,
        "sequence": origin.sequence,
        "deliveries": origin.deliveries,
        "refused_at": datetime.now(UTC).isoformat(),
        "message_bytes": len(data),
    }
    if len(data) > max_bytes:
        return json.dumps(letter, ensure_ascii=False).encode("utf-8")
    kept, dropped = _without_files(data)
    if kept is None:
        letter["message_left_out"] = "it may carry a file and could not be read to drop it"
    else:
        if dropped:
            letter["files_dropped"] = dropped
        try:
            letter["message"] = kept.decode("utf-8")
        except UnicodeDecodeError:
            letter["message_base64"] = base64.b64encode(kept).decode("ascii")
    return json.dumps(letter, ensure_ascii=False).encode("utf-8")


def _without_files(data: bytes) -> tuple[bytes | None, int]:
    """Return the message with the files it carries left out (``media[].data`` becomes null),
    and how many were: what platforms send may be child sexual abuse material, and a dead
    letter lives for weeks. Fails closed: a message that may carry a file but cannot be read
    as one JSON object with a list of media objects (not JSON, not UTF-8, a key twice, media
    of another shape) is left out whole (None)."""
    try:
        body = json.loads(data, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError):
        return (None, 0) if b"data" in data else (data, 0)
    if not isinstance(body, dict):
        return (None, 0) if b"data" in data else (data, 0)
    if "media" not in body:  # files travel in media only
        return data, 0
    media = body["media"]
    if not isinstance(media, list) or not all(isinstance(item, dict) for item in media):
        return None, 0
    dropped = 0
    for item in media:
        if item.get("data") is not None:
            item["data"] = None
            dropped += 1
    if not dropped:
        return data, 0
    return json.dumps(body, ensure_ascii=False).encode("utf-8"), dropped


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a key comes twice")
    return found
