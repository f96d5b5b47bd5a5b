"""Shared value types: channel handles, country codes, hashes."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    WithJsonSchema,
    field_validator,
)

from tanggap.errors import InvalidInput

MAX_BIGINT = 2**63 - 1  # the largest integer both databases store
MAX_MESSAGE_ID = 2**53  # the largest message id a JSON number carries exactly
# Marks a field checked against the policy's categories; the OpenAPI document lists them there.
POLICY_CATEGORY = "x-policy-category"
# What ``normalise_handle`` accepts, for the OpenAPI document (the check itself stays in code).
HANDLE_PATTERN = r"^\s*@?[A-Za-z][A-Za-z0-9_]{3,31}\s*$"
EMAIL_PATTERN = r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$"
_FIELD_PREFIX = re.compile(r"^(?:Value error, )?([A-Za-z_][A-Za-z0-9_.]*): (.+)$", re.S)
_LOCATION_ROOTS = {"body", "query", "path", "header"}
HANDLE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")


def normalise_handle(value: str) -> str:
    """Return a channel handle in its canonical lower-case form, or raise ValueError."""
    value = value.strip().removeprefix("@")
    if not HANDLE_RE.match(value):
        raise ValueError(
            f"{value!r} is not a channel handle (4-32 letters, digits or _, starting with a letter)"
        )
    return value.lower()


def folded(text: str) -> str:
    """Return ``text`` as compared for sameness: NFKC, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def bounded_time(value: datetime, field: str) -> datetime:
    """Return an aware time between 2000 and 2100, or raise InvalidInput naming ``field``."""
    if value.tzinfo is None:
        raise InvalidInput("give a time zone, e.g. 2026-11-23T00:00:00+07:00", field=field)
    try:
        utc = value.astimezone(UTC)
    except OverflowError as exc:
        raise InvalidInput("the time lies outside 2000-2100", field=field) from exc
    if not EARLIEST <= utc <= LATEST:
        raise InvalidInput("the time lies outside 2000-2100", field=field)
    return utc


def normalise_country(value: str) -> str:
    """Return an ISO 3166-1 alpha-2 country code in upper case, or raise ValueError."""
    if not COUNTRY_RE.match(value.strip()):
        raise ValueError(f"{value!r} is not a two-letter ISO 3166-1 country code")
    return value.strip().upper()


def _hex(length: int, name: str) -> Callable[[str], str]:
    pattern = re.compile(rf"^[0-9a-fA-F]{{{length}}}$")

    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"{name} must be {length} hexadecimal characters")
        return value.lower()

    return check


MAX_JSON_DEPTH = 32  # far deeper than any request Tanggap takes; a value nested deeper is refused


def json_depth(value: object, limit: int = MAX_JSON_DEPTH) -> int:
    """Return how deep ``value`` nests lists and objects, counting no further than ``limit + 1``."""
    # Iterative, so a hostile value cannot exhaust the stack; stops as soon as it is too deep.
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list):
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)
    return deepest


def read_message_id(text: str) -> int:
    """Read a message id written in ASCII digits (1 to 2**53), or raise ValueError."""
    digits = text.strip()
    # Python's int() also reads other scripts' digits ("١٢", "²") and underscores ("1_0").
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"{text!r} is not a message id (a positive whole number)")
    significant = digits.lstrip("0") or "0"
    number = int(significant) if len(significant) <= len(str(MAX_MESSAGE_ID)) else 0
    if not 1 <= number <= MAX_MESSAGE_ID:
        raise ValueError(f"{text!r} is not a message id (a whole number from 1 to 2**53)")
    return number


def _message_id(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("a message id is a whole number, not true or false")
    if isinstance(value, str):
        return read_message_id(value)
    return value


def short_id(value: str | int, field: str) -> str:
    """Return a platform's id of a person as text of 1-128 characters, or raise ValueError."""
    # An int of thousands of digits would make str() itself refuse, in Python's words.
    if isinstance(value, int) and not -(10**127) < value < 10**128:
        raise ValueError(f"{field} must be 1-128 characters")
    text = str(value).strip()
    if not text or len(text) > 128:
        raise ValueError(f"{field} must be 1-128 characters")
    return text


def _not_boolean(value: object) -> object:
    # JSON's true and false are not numbers, though Python counts them as 1 and 0.
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


Number = Annotated[int, BeforeValidator(_not_boolean)]
Handle = Annotated[
    str,
    AfterValidator(normalise_handle),
    WithJsonSchema({"type": "string", "pattern": HANDLE_PATTERN}),
]
# A message id in a body or a path: ASCII digits only when written as text, 1 to 2**53.
MessageId = Annotated[
    int,
    BeforeValidator(_message_id),
    Interval(ge=1, le=MAX_MESSAGE_ID),
    # Stated by hand: behind a BeforeValidator pydantic would write the bounds as "ge"/"le".
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_MESSAGE_ID}),
]
CountryCode = Annotated[
    str,
    AfterValidator(normalise_country),
    WithJsonSchema({"type": "string", "pattern": r"^\s*[A-Za-z]{2}\s*$"}),
]
Sha256Hex = Annotated[
    str,
    AfterValidator(_hex(64, "sha256")),
    WithJsonSchema({"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}),
]
Md5Hex = Annotated[
    str,
    AfterValidator(_hex(32, "md5")),
    WithJsonSchema({"type": "string", "pattern": "^[0-9a-fA-F]{32}$"}),
]
PdqHex = Annotated[
    str,
    AfterValidator(_hex(64, "pdq")),
    WithJsonSchema({"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}),
]


class Input(BaseModel):
    """Base of every request body: unknown fields refused, text trimmed, no NUL characters."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # PostgreSQL cannot store NUL in text; refuse it here, naming the field, on both databases.
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("must not contain NUL characters")
        return value


def _field_of(loc: tuple[Any, ...], message: str) -> tuple[str, str]:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _LOCATION_ROOTS:
        parts = parts[1:]
    # Pydantic names union members and wrappers in the location; the caller only knows fields.
    parts = [
        p
        for p in parts
        if not p.startswith(("function-", "constrained-", "str", "int", "TargetRef"))
    ]
    field = ".".join(parts)
    match = _FIELD_PREFIX.match(message)
    if match and not field:
        return match.group(1), match.group(2)
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return field or "body", message


def validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turn pydantic errors into ``[{field, message}]``."""
    details = []
    for err in errors:
        if err.get("type") == "json_invalid":
            details.append({"field": "body", "message": "the body is not valid JSON"})
            continue
        if err.get("type") == "missing" and tuple(err.get("loc", ())) == ("body",):
            details.append({"field": "body", "message": "a JSON body is required"})
            continue
        field, message = _field_of(tuple(err.get("loc", ())), str(err.get("msg", "invalid")))
        if err.get("type") == "extra_forbidden":
            message = "unknown field"
        details.append({"field": field, "message": message})
    return details
