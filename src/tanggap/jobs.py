"""The background jobs of a process, each a thread that runs one round every few seconds:
platform actions and webhooks (the outbox), triage, the deadline watch, retroactive scans and
image hashing. Every round is also callable on its own (tests, the CLI)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import structlog

from tanggap.detection import scans
from tanggap.heartbeats.service import Heartbeats
from tanggap.review import deadlines, triage
from tanggap.runtime import Runtime
from tanggap.screening.scans import run_batch

log = structlog.get_logger(__name__)
TRIAGE_INTERVAL_SECONDS = 1.0
WATCH_INTERVAL_SECONDS = 15.0
SCAN_INTERVAL_SECONDS = 2.0
MEDIA_INTERVAL_SECONDS = 0.5
WEBHOOK_INTERVAL_SECONDS = 5.0


class Dispatcher:
    """A thread that runs one job every ``interval`` seconds until stopped."""

    def __init__(
        self,
        name: str,
        job: Callable[[], int],
        interval: float,
        heartbeat: Heartbeats | None = None,
    ):
        self.name = name
        self.job = job
        self.interval = interval
        self.heartbeat = heartbeat
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Run the job once and record the round's heartbeat; return how many things it did."""
        try:
            done = self.job()
        except Exception:
            if self.heartbeat is not None:
                self.heartbeat.beat(self.name, ok=False)
            raise
        if self.heartbeat is not None:
            self.heartbeat.beat(self.name, ok=True)
        return done

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


def scan_round(runtime: Runtime) -> int:
    """Notice new or changed rules, then run one batch of the oldest scan under way and deliver
    what it queued; return how many posts it scanned."""
    with runtime.factory() as session, session.begin():
        scans.sync_rules(
            session=session, rules=runtime.rules.fresh().rules, actor=scans.RULES_ACTOR
        )
    with runtime.factory() as session:
        waiting = scans.active(session=session)
    if not waiting:
        return 0
    batch = run_batch(factory=runtime.factory, pipeline=runtime.pipeline, scan_id=waiting[0])
    runtime.deliver_now(batch.actions, reason=f"scan {waiting[0]}")
    return batch.scanned


def triage_round(runtime: Runtime) -> int:
    """Triage the cases waiting for it; return how many."""
    return triage.triage_due(
        factory=runtime.factory, policy=runtime.policy, notifier=runtime.notifier
    )


def deadline_round(runtime: Runtime) -> int:
    """Watch leases and deadlines once; return how many cases changed."""
    return deadlines.watch_deadlines(factory=runtime.factory, notifier=runtime.notifier).total


def action_dispatcher(runtime: Runtime) -> Dispatcher:
    """Deliver takedowns and restores; never waits behind a slow webhook receiver."""
    return Dispatcher(
        "action-dispatcher", runtime.deliver_actions, runtime.settings.action_retry_seconds
    )


def webhook_dispatcher(runtime: Runtime, client: httpx.Client) -> Dispatcher:
    """Send webhooks to flagger organisations and the leads, in their own thread."""
    return Dispatcher(
        "webhook-dispatcher",
        lambda: runtime.send_webhooks(client),
        min(runtime.settings.webhook_retry_seconds, WEBHOOK_INTERVAL_SECONDS),
    )


def background_jobs(runtime: Runtime, client: httpx.Client) -> list[Dispatcher]:
    """Every background job of a process that does everything (the embedded default), each
    recording its rounds' heartbeats."""
    jobs = [
        action_dispatcher(runtime),
        webhook_dispatcher(runtime, client),
        Dispatcher("triage", lambda: triage_round(runtime), TRIAGE_INTERVAL_SECONDS),
        Dispatcher("deadline-watch", lambda: deadline_round(runtime), WATCH_INTERVAL_SECONDS),
        Dispatcher("scans", lambda: scan_round(runtime), SCAN_INTERVAL_SECONDS),
        Dispatcher("media", lambda: runtime.media.run_once(), MEDIA_INTERVAL_SECONDS),
    ]
    heartbeat = Heartbeats(runtime.factory)
    for job in jobs:
        job.heartbeat = heartbeat
    return jobs
