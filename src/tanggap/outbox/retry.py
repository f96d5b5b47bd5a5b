"""The one retry policy of every outbox: doubling waits, capped per kind."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

DEFAULT_CAP = timedelta(hours=1)


class DeliveryState(StrEnum):
    """Where one row of an outbox stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"  # withdrawn before it was delivered (its decision was reversed)


def backoff(attempts: int, base_seconds: float, cap: timedelta = DEFAULT_CAP) -> timedelta:
    """Return the wait after ``attempts`` failed attempts: ``base_seconds`` doubling from the
    first failure, never longer than ``cap``."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), cap)
