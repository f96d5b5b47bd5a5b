"""One outbox engine for everything Tanggap sends out (platform actions, webhooks)."""

from tanggap.outbox.engine import (
    BatchKind,
    Claimed,
    DeliveryFailed,
    DeliveryRefused,
    OutboxKind,
    Sent,
    deliver_due,
    deliver_due_in_batches,
    head_of_line,
)
from tanggap.outbox.retry import DeliveryState, backoff

__all__ = [
    "BatchKind",
    "Claimed",
    "DeliveryFailed",
    "DeliveryRefused",
    "DeliveryState",
    "OutboxKind",
    "Sent",
    "backoff",
    "deliver_due",
    "deliver_due_in_batches",
    "head_of_line",
]
