"""One outbox engine for everything Tanggap sends out (platform actions, webhooks)."""

from tanggap.outbox.engine import Claimed, DeliveryFailed, OutboxKind, Sent, deliver_due
from tanggap.outbox.retry import DeliveryState, backoff

__all__ = [
    "Claimed",
    "DeliveryFailed",
    "DeliveryState",
    "OutboxKind",
    "Sent",
    "backoff",
    "deliver_due",
]
