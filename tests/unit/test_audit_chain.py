"""The audit chain's hashing: any change to any field or to the order breaks it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tanggap.audit.chain import GENESIS_HASH, canonical_json, event_hash

EVENT = {
    "seq": 1,
    "prev_hash": GENESIS_HASH,
    "occurred_at": datetime(2026, 11, 23, 8, 0, 0, 123456, tzinfo=UTC),
    "actor": "flagger:abc",
    "action": "report.received",
    "subject_type": "report",
    "subject_id": "r1",
    "data": canonical_json({"category": "fraud", "deadline": "2026-11-24T08:00:00+00:00"}),
}


def test_hash_is_stable() -> None:
    assert event_hash(**EVENT) == event_hash(**dict(EVENT))
    assert len(event_hash(**EVENT)) == 64


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seq", 2),
        ("prev_hash", "1" * 64),
        ("occurred_at", datetime(2026, 11, 23, 8, 0, 0, 123457, tzinfo=UTC)),
        ("actor", "flagger:abd"),
        ("action", "report.deleted"),
        ("subject_type", "case"),
        ("subject_id", "r2"),
        ("data", canonical_json({"category": "drugs"})),
    ],
)
def test_changing_any_field_changes_the_hash(field: str, value: object) -> None:
    assert event_hash(**{**EVENT, field: value}) != event_hash(**EVENT)


def test_canonical_json_ignores_key_order_but_not_values() -> None:
    assert canonical_json({"a": 1, "b": [1, 2]}) == canonical_json({"b": [1, 2], "a": 1})
    assert canonical_json({"a": 1}) != canonical_json({"a": 2})
    assert canonical_json({"text": "ujaran"}) == '{"text":"ujaran"}'
