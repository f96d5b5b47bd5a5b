"""The hash chain of audit events: pure functions, no database."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

GENESIS_HASH = "0" * 64
# What a purged free text reads as in an event's data; the chain keeps its digest.
PURGED_TEXT = "[purged]"


def canonical_json(value: Any) -> str:
    """Encode ``value`` the one way the chain hashes it: sorted keys, no spaces, UTF-8 text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(
    *,
    seq: int,
    prev_hash: str,
    occurred_at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    data: str,
    free_text: Sequence[str] | None = None,
) -> str:
    """Hash one event together with the hash of the event before it; an event with free text
    also covers the names of its free-text fields (``data`` then holds their digests)."""
    fields: list[Any] = [
        seq,
        prev_hash,
        occurred_at.isoformat(timespec="microseconds"),
        actor,
        action,
        subject_type,
        subject_id,
        data,
    ]
    if free_text is not None:
        fields.append(sorted(free_text))
    body = canonical_json(fields)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def text_digest(*, salt: str, text: str) -> str:
    """Return the digest a free text is chained by: SHA-256 of its salt and its UTF-8 bytes."""
    return hashlib.sha256(bytes.fromhex(salt) + text.encode("utf-8")).hexdigest()


def seal_texts(texts: Mapping[str, str | None]) -> dict[str, dict[str, str]]:
    """Return a fresh salt for each free text present (the ``free_text`` column's value)."""
    return {name: {"salt": secrets.token_hex(16)} for name, text in texts.items() if text}


def hashed_data(data: str, free_text: str | None) -> tuple[str, list[str] | None]:
    """Return what an event's hash covers of its data: the data itself for an event without
    free text; otherwise the data with each free text replaced by its digest (computed from the
    text and its salt while the text is kept, the stored digest once it is purged)."""
    if free_text is None:
        return data, None
    seals: dict[str, dict[str, str]] = json.loads(free_text)
    values = json.loads(data)
    for name, seal in seals.items():
        digest = seal.get("sha256")
        if digest is None:
            text = values.get(name)
            digest = text_digest(salt=seal["salt"], text=text if isinstance(text, str) else "")
        values[name] = {"sha256": digest}
    return canonical_json(values), list(seals)


def purged_fields(free_text: str | None) -> list[str]:
    """Return the names of an event's free texts that were purged (kept only as digests)."""
    if free_text is None:
        return []
    seals: dict[str, dict[str, str]] = json.loads(free_text)
    return sorted(name for name, seal in seals.items() if "sha256" in seal)


@dataclass(frozen=True)
class ChainProblem:
    """The first place where the chain does not hold."""

    seq: int
    reason: str


class Content(Protocol):
    """What an event's hash covers besides its place and its predecessor."""

    @property
    def occurred_at(self) -> datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def subject_type(self) -> str: ...
    @property
    def subject_id(self) -> str: ...
    @property
    def data(self) -> str: ...
    @property
    def free_text(self) -> str | None: ...


class Chained(Content, Protocol):
    """A sealed event as the chain sees it (a stored ``AuditEvent``, or one read from a file)."""

    @property
    def seq(self) -> int | None: ...
    @property
    def prev_hash(self) -> str | None: ...
    @property
    def hash(self) -> str | None: ...


def hash_of(event: Content, *, seq: int, prev_hash: str) -> str:
    """Hash ``event`` at place ``seq`` after an event hashed ``prev_hash``."""
    data, free_text = hashed_data(event.data, event.free_text)
    return event_hash(
        seq=seq,
        prev_hash=prev_hash,
        occurred_at=event.occurred_at,
        actor=event.actor,
        action=event.action,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        data=data,
        free_text=free_text,
    )


class ChainWalk:
    """Follows sealed events in order from a starting point and names the first that does not
    hold: missing, not linked to the one before, or altered after it was sealed."""

    def __init__(self, *, after_seq: int = 0, after_hash: str = GENESIS_HASH):
        self.next_seq = after_seq + 1
        self.last_hash = after_hash
        self.checked = 0
        self.purged = 0

    def step(self, event: Chained) -> ChainProblem | None:
        """Check the next event; on success it becomes the one the next must link to."""
        seq = event.seq or 0
        if seq != self.next_seq:
            missing = self.next_seq if seq > self.next_seq else seq
            return ChainProblem(missing, f"event {missing} is missing")
        if event.prev_hash != self.last_hash:
            return ChainProblem(seq, f"event {seq} does not link to event {seq - 1}")
        digest: str | None
        try:
            digest = hash_of(event, seq=seq, prev_hash=self.last_hash)
        except (ValueError, KeyError, TypeError, AttributeError):  # free text not as sealed
            digest = None
        if digest is None or digest != event.hash:
            return ChainProblem(seq, f"event {seq} was altered after it was sealed")
        self.last_hash, self.next_seq, self.checked = digest, seq + 1, self.checked + 1
        if purged_fields(event.free_text):
            self.purged += 1
        return None
