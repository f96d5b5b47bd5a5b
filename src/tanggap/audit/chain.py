"""The hash chain of audit events: pure functions, no database."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

GENESIS_HASH = "0" * 64


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
) -> str:
    """Hash one event together with the hash of the event before it."""
    body = canonical_json(
        [
            seq,
            prev_hash,
            occurred_at.isoformat(timespec="microseconds"),
            actor,
            action,
            subject_type,
            subject_id,
            data,
        ]
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


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
    return event_hash(
        seq=seq,
        prev_hash=prev_hash,
        occurred_at=event.occurred_at,
        actor=event.actor,
        action=event.action,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        data=event.data,
    )


class ChainWalk:
    """Follows sealed events in order from a starting point and names the first that does not
    hold: missing, not linked to the one before, or altered after it was sealed."""

    def __init__(self, *, after_seq: int = 0, after_hash: str = GENESIS_HASH):
        self.next_seq = after_seq + 1
        self.last_hash = after_hash
        self.checked = 0

    def step(self, event: Chained) -> ChainProblem | None:
        """Check the next event; on success it becomes the one the next must link to."""
        seq = event.seq or 0
        if seq != self.next_seq:
            missing = self.next_seq if seq > self.next_seq else seq
            return ChainProblem(missing, f"event {missing} is missing")
        if event.prev_hash != self.last_hash:
            return ChainProblem(seq, f"event {seq} does not link to event {seq - 1}")
        if hash_of(event, seq=seq, prev_hash=self.last_hash) != event.hash:
            return ChainProblem(seq, f"event {seq} was altered after it was sealed")
        self.last_hash, self.next_seq, self.checked = event.hash, seq + 1, self.checked + 1
        return None
