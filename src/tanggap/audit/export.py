"""The audit log outside the database: an export (JSON lines of sealed events and their signed
checkpoints) and its verification with nothing but the file and the public key."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from tanggap.audit.chain import GENESIS_HASH, ChainProblem, ChainWalk, canonical_json
from tanggap.audit.signing import Signed, key_id, signature_holds

FORMAT = "tanggap-audit-export"
# Version 2 adds an event's ``free_text`` seals (events with purgeable text); version 1 files,
# which have none, still read.
VERSION = 2
READABLE = (1, 2)
EVENT_FIELDS = ("seq", "prev_hash", "hash", "actor", "action", "subject_type", "subject_id", "data")


class ExportError(ValueError):
    """A line of an export that cannot be read; the message names the line."""


class StoredCheckpoint(Protocol):
    """A checkpoint row as stored (``AuditCheckpoint``)."""

    seq: int
    hash: str
    signed_at: datetime
    public_key: str
    signature: str


@dataclass(frozen=True)
class Checkpoint:
    """A signed checkpoint: the chain's head at ``seq`` and its signature."""

    seq: int
    hash: str
    signed_at: datetime
    public_key: str
    signature: str

    @classmethod
    def of(cls, stored: StoredCheckpoint) -> Checkpoint:
        """Copy a stored checkpoint."""
        return cls(stored.seq, stored.hash, stored.signed_at, stored.public_key, stored.signature)

    def signed(self) -> Signed:
        """Return what the signature covers."""
        return Signed(seq=self.seq, hash=self.hash, signed_at=self.signed_at)

    def as_json(self) -> dict[str, Any]:
        """Return the checkpoint as published (the export, the API, the webhook)."""
        return {
            "seq": self.seq,
            "hash": self.hash,
            "signed_at": self.signed_at.isoformat(timespec="microseconds"),
            "key_id": key_id(self.public_key),
            "public_key": self.public_key,
            "signature": self.signature,
        }


@dataclass(frozen=True)
class ExportedEvent:
    """A sealed event as an export holds it."""

    seq: int
    prev_hash: str
    hash: str
    occurred_at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    data: str
    free_text: str | None = None


@dataclass
class Exported:
    """An export read back: its events by place, its checkpoints, when it was made."""

    exported_at: str
    since: int
    events: dict[int, ExportedEvent] = field(default_factory=dict)
    checkpoints: list[Checkpoint] = field(default_factory=list)


@dataclass(frozen=True)
class FileReport:
    """The outcome of verifying an export on its own."""

    events: int
    checkpoints: int
    problem: ChainProblem | None
    purged: int = 0


def checkpoint_problem(
    checkpoint: Checkpoint, *, hash_at_seq: str, public_key: str | None
) -> ChainProblem | None:
    """Name what is wrong with a checkpoint: another key, a bad signature, or a head that is not
    the hash of its event."""
    seq = checkpoint.seq
    if public_key is not None and checkpoint.public_key != public_key:
        return ChainProblem(seq, f"checkpoint {seq} is signed by another key")
    if not signature_holds(checkpoint.public_key, checkpoint.signed(), checkpoint.signature):
        return ChainProblem(seq, f"checkpoint {seq} has a signature that does not hold")
    if checkpoint.hash != hash_at_seq:
        return ChainProblem(seq, f"event {seq} does not match its signed checkpoint")
    return None


def header_line(*, since: int, exported_at: datetime) -> str:
    """Return the first line of an export."""
    return canonical_json(
        {
            "format": FORMAT,
            "version": VERSION,
            "since": since,
            "exported_at": exported_at.isoformat(timespec="seconds"),
        }
    )


def event_line(event: ExportedEvent) -> str:
    """Return one event's line."""
    body: dict[str, Any] = {name: getattr(event, name) for name in EVENT_FIELDS}
    body["occurred_at"] = event.occurred_at.isoformat(timespec="microseconds")
    if event.free_text is not None:
        body["free_text"] = event.free_text
    return canonical_json({"event": body})


def checkpoint_line(checkpoint: Checkpoint) -> str:
    """Return one checkpoint's line."""
    return canonical_json({"checkpoint": checkpoint.as_json()})


def read_export(lines: Iterable[str]) -> Exported:
    """Read an export; raise ``ExportError`` naming the first line that is not right."""
    numbered = iter(enumerate(lines, start=1))
    exported: Exported | None = None
    for number, line in numbered:
        if not line.strip():
            continue
        record = _json(number, line)
        if exported is None:
            exported = _header(number, record)
            continue
        if "event" in record:
            event = _event(number, record["event"])
            if event.seq in exported.events:
                raise ExportError(f"line {number}: event {event.seq} appears twice")
            exported.events[event.seq] = event
        elif "checkpoint" in record:
            exported.checkpoints.append(_checkpoint(number, record["checkpoint"]))
        else:
            raise ExportError(f"line {number}: neither an event nor a checkpoint")
    if exported is None:
        raise ExportError("line 1: the file is empty, not an audit export")
    return exported


def verify_export(exported: Exported, *, public_key: str) -> FileReport:
    """Check an export with no database: its events link and hash, and every checkpoint is
    signed by ``public_key`` and names the hash of its event."""
    events = [exported.events[seq] for seq in sorted(exported.events)]
    start_hash = GENESIS_HASH if exported.since == 0 or not events else events[0].prev_hash
    walk = ChainWalk(after_seq=exported.since, after_hash=start_hash)
    for event in events:
        problem = walk.step(event)
        if problem is not None:
            return FileReport(walk.checked, 0, problem)
    for number, checkpoint in enumerate(sorted(exported.checkpoints, key=lambda c: c.seq)):
        covered = exported.events.get(checkpoint.seq)
        problem = checkpoint_problem(
            checkpoint,
            hash_at_seq=covered.hash if covered is not None else checkpoint.hash,
            public_key=public_key,
        )
        if problem is not None:
            return FileReport(walk.checked, number, problem)
    return FileReport(walk.checked, len(exported.checkpoints), None, walk.purged)


def lines_of(events: Iterable[ExportedEvent], checkpoints: Iterable[Checkpoint]) -> Iterator[str]:
    """Interleave events and checkpoints: each checkpoint right after the event it signs."""
    by_seq: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        by_seq.setdefault(checkpoint.seq, []).append(checkpoint)
    for event in events:
        yield event_line(event)
        for checkpoint in by_seq.pop(event.seq, []):
            yield checkpoint_line(checkpoint)
    for left in sorted(by_seq):
        for checkpoint in by_seq[left]:
            yield checkpoint_line(checkpoint)


def _json(number: int, line: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError:
        raise ExportError(f"line {number}: not JSON") from None
    if not isinstance(record, dict):
        raise ExportError(f"line {number}: not a JSON object")
    return record


def _header(number: int, record: dict[str, Any]) -> Exported:
    if record.get("format") != FORMAT or record.get("version") not in READABLE:
        raise ExportError(f"line {number}: not a {FORMAT} file of version 1 or {VERSION}")
    since = record.get("since")
    if not isinstance(since, int) or isinstance(since, bool) or since < 0:
        raise ExportError(f"line {number}: since must be a whole number, 0 or more")
    return Exported(exported_at=str(record.get("exported_at", "")), since=since)


def _field(number: int, body: Any, name: str, kind: type) -> Any:
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ExportError(f"line {number}: {name} is missing or not a {kind.__name__}")
    return value


def _time(number: int, body: Any, name: str) -> datetime:
    text = _field(number, body, name, str)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ExportError(f"line {number}: {name} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise ExportError(f"line {number}: {name} has no time zone")
    return when


def _event(number: int, body: Any) -> ExportedEvent:
    values = {name: _field(number, body, name, str) for name in EVENT_FIELDS if name != "seq"}
    seq = _field(number, body, "seq", int)
    free_text = body.get("free_text")
    if free_text is not None and not isinstance(free_text, str):
        raise ExportError(f"line {number}: free_text is not a str")
    return ExportedEvent(
        seq=seq, occurred_at=_time(number, body, "occurred_at"), free_text=free_text, **values
    )


def _checkpoint(number: int, body: Any) -> Checkpoint:
    return Checkpoint(
        seq=_field(number, body, "seq", int),
        hash=_field(number, body, "hash", str),
        signed_at=_time(number, body, "signed_at"),
        public_key=_field(number, body, "public_key", str),
        signature=_field(number, body, "signature", str),
    )
