"""The port through which actions reach a platform: one tiny interface, several adapters (the
built-in pages in ``builtin_pages``, a recording one for tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from tanggap.actions.models import ActionKind


@dataclass(frozen=True)
class PlatformAction:
    """What the platform is asked to do; ``idempotency_key`` is the same on every retry."""

    idempotency_key: str
    kind: ActionKind
    channel: str
    message_id: int | None
    countries: tuple[str, ...] = ()
    ground: str | None = None
    policy_ref: str | None = None
    policy_name: str | None = None
    platform: str | None = None  # the channel's platform; None: the configured default
    channel_ref: str | None = None  # the platform's own id of the channel, when known
    # The post whose statement of reasons explains the action: the action's own post, or for a
    # channel-wide kind the post of the case decided.
    decided_message_id: int | None = None
    # For a member's ban: the post's author (pseudonym) and their id as the connector sealed it
    # (``platforms.sealing``); only the Telegram adapter opens it. Kept out of ``repr``.
    member_ref: str | None = None
    sealed_member: str | None = field(default=None, repr=False)


class PlatformAdapter(Protocol):
    """Applies actions to a platform; applying the same key twice must change nothing.

    The outbox calls it outside any database transaction, under a lease: it may take as long as
    the platform takes to answer. Raise to have the action retried later: ``DeliveryFailed`` (or
    an ``OSError``) when the platform refused or could not be reached; anything else is logged
    with its traceback, as a fault."""

    def apply(self, action: PlatformAction) -> None:
        """Apply ``action`` on the platform."""


@dataclass
class RecordingAdapter:
    """Keeps every action it is given in memory; for tests and dry runs."""

    applied: list[PlatformAction] = field(default_factory=list)
    fail_times: int = 0

    def apply(self, action: PlatformAction) -> None:
        """Remember ``action``, or fail while ``fail_times`` lasts."""
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("platform unavailable")
        if all(a.idempotency_key != action.idempotency_key for a in self.applied):
            self.applied.append(action)
