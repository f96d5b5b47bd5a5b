"""Read a stream message as a post, and write the dead letter of one that is refused."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from tanggap.errors import TanggapError
from tanggap.posts.schemas import PostIn
from tanggap.validation import MAX_JSON_DEPTH, json_depth, validation_details

MESSAGE = "message"  # the field named when the message as a whole is refused


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


def read_post(data: bytes, *, max_bytes: int) -> PostIn | Refusal:
    """Return the post a message carries (``PostIn`` JSON), or why it is refused."""
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
    try:
        return PostIn.model_validate(body)
    except ValidationError as exc:
        first = validation_details([dict(e) for e in exc.errors()])[0]
        field = MESSAGE if first["field"] == "body" else str(first["field"])
        return Refusal("invalid_input", field, str(first["message"]))


def refusal_of(error: TanggapError) -> Refusal:
    """Return the refusal of a post the service would not store."""
    return Refusal(error.code, error.field or MESSAGE, error.message)


def dead_letter(refusal: Refusal, *, data: bytes, origin: Origin, max_bytes: int) -> bytes:
    """Return the dead letter of a refused message: the reason, the field, where it came from
    and the message as it came (left out when over ``max_bytes``; the stream still holds it
    until its retention drops it)."""
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
    if len(data) <= max_bytes:
        try:
            letter["message"] = data.decode("utf-8")
        except UnicodeDecodeError:
            letter["message_base64"] = base64.b64encode(data).decode("ascii")
    return json.dumps(letter, ensure_ascii=False).encode("utf-8")
