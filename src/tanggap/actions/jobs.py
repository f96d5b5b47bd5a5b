"""Background delivery of the action outbox."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime

import structlog

from tanggap.actions.service import deliver_due
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


class ActionDispatcher:
    """A thread that delivers due actions every ``interval`` seconds until stopped."""

    def __init__(self, runtime: Runtime, interval: float | None = None):
        self.runtime = runtime
        self.interval = interval or runtime.settings.action_retry_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Deliver every action that is due now; return how many were delivered."""
        return deliver(self.runtime)

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
