"""One outbox engine for everything Tanggap sends out (platform actions, webhooks)."""

from tanggap.outbox.engine import (
    Claimed,
    DeliveryFailed,
    DeliveryRefused,
    OutboxKind,
    Sent,
    deliver_due,
    head_of_line,
)
from tanggap.outbox.retry import DeliveryState, backoff

__all__ = [
    "Claimed",
    "DeliveryFailed",
    "DeliveryRefused",
    "DeliveryState",
    "OutboxKind",
    "Sent",
    "backoff",
    "deliver_due",
    "head_of_line",
]
