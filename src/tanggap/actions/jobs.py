"""Background delivery of the action outbox."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta

import httpx
import structlog

from tanggap.actions.service import deliver_due
from tanggap.notify import outbox
from tanggap.runtime import Runtime

log = structlog.get_logger(__name__)


def deliver(
    runtime: Runtime, *, action_ids: list[uuid.UUID] | None = None, now: datetime | None = None
) -> int:
    """Deliver the due actions (or the ones named) with the runtime's adapter and settings."""
    return deliver_due(
        factory=runtime.factory,
        adapter=runtime.adapter,
        policy=runtime.policy,
        notifier=runtime.notifier,
        retry_seconds=runtime.settings.action_retry_seconds,
        max_attempts=runtime.settings.action_max_attempts,
        action_ids=action_ids,
        now=now,
    )


def notify(runtime: Runtime, client: httpx.Client, *, now: datetime | None = None) -> int:
    """Send the due webhooks; return how many were delivered."""
    settings = runtime.settings
    return outbox.deliver_due(
        factory=runtime.factory,
        client=client,
        retry_seconds=settings.webhook_retry_seconds,
        give_up_after=timedelta(hours=settings.webhook_give_up_hours),
        now=now,
    )


class ActionDispatcher:
    """A thread that delivers due actions and webhooks every ``interval`` seconds until stopped."""

    def __init__(self, runtime: Runtime, interval: float | None = None):
        self.runtime = runtime
        self.interval = interval or min(
            runtime.settings.action_retry_seconds, runtime.settings.webhook_retry_seconds
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = httpx.Client(timeout=runtime.settings.webhook_timeout_seconds)

    def run_once(self) -> int:
        """Deliver every action and webhook that is due now; return how many were delivered."""
        return deliver(self.runtime) + notify(self.runtime, self._client)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the loop must outlive a bad round (database restart…)
                log.exception("dispatcher.round_failed")
            self._stop.wait(self.interval)

    def start(self) -> None:
        """Start the delivery thread."""
        self._thread = threading.Thread(target=self._loop, name="action-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the delivery thread and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._client.close()
