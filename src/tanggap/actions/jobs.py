"""Background delivery of the action outbox."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
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
        timeout_seconds=settings.webhook_timeout_seconds,
        lead_webhook=outbox.lead_webhook_from(settings),
        now=now,
    )


class Dispatcher:
    """A thread that runs one delivery job every ``interval`` seconds until stopped."""

    def __init__(self, name: str, job: Callable[[], int], interval: float):
        self.name = name
        self.job = job
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Run the job once; return how many things it delivered."""
        return self.job()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the loop must outlive a bad round (database restart…)
                log.exception("dispatcher.round_failed", dispatcher=self.name)
            self._stop.wait(self.interval)

    def start(self) -> None:
        """Start the thread."""
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)


def action_dispatcher(runtime: Runtime) -> Dispatcher:
    """Deliver takedowns and restores; never waits behind a slow webhook receiver."""
    return Dispatcher(
        "action-dispatcher", lambda: deliver(runtime), runtime.settings.action_retry_seconds
    )


def webhook_dispatcher(runtime: Runtime, client: httpx.Client) -> Dispatcher:
    """Send webhooks to flagger organisations, in their own thread."""
    return Dispatcher(
        "webhook-dispatcher",
        lambda: notify(runtime, client),
        min(runtime.settings.webhook_retry_seconds, 5.0),
    )
