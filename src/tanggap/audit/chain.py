"""The hash chain of audit events: pure functions, no database."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

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
