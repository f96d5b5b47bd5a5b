"""The background jobs, each a thread that runs one round every few seconds or as soon as a
commit wakes it: platform actions, webhooks and statements of reasons for the EU database (the
outbox), triage, the deadline watch, retroactive scans, image hashing, the audit sealer (one at a
time across processes) and retention. Every job is safe to run in any number of processes at once
(claims with ``SKIP LOCKED`` or a lease, checked again under the lock). Every round is also
callable on its own (tests, the CLI)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import structlog
from sqlalchemy.engine import make_url

from tanggap.db import wake
from tanggap.db.session import normalise_url
from tanggap.db.wake import EVERY_JOB, WakeListener
from tanggap.detection import scans
from tanggap.errors import RoundCutShort
from tanggap.heartbeats.service import Heartbeats
from tanggap.retention.service import purge_round
from tanggap.review import deadlines, triage
from tanggap.runtime import Runtime
from tanggap.screening.scans import run_batch

log = structlog.get_logger(__name__)
# After failed rounds in a row (the database is away), the wait doubles up to this.
MAX_BACKOFF_SECONDS = 60.0


class Dispatcher:
    """A thread that runs one job every ``interval`` seconds until stopped, at once when woken,
    and less often while its rounds keep failing."""

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
        self.failures = 0
        self.heartbeat = heartbeat
        self._stop = threading.Event()
        self._nudge = threading.Event()
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

    def wait_seconds(self) -> float:
        """Return how long to wait before the next round: the interval, doubled for every
        failed round in a row (capped), back to the interval after a round that worked."""
        if not self.failures:
            return self.interval
        return max(self.interval, min(self.interval * 2**self.failures, MAX_BACKOFF_SECONDS))

    def attempt(self) -> None:
        """Run one round as the thread does: a failure is logged and counted, never raised."""
        try:
            done = self.run_once()
            self.failures = 0
            if done:
                log.info("dispatcher.round", dispatcher=self.name, done=done)
        except Exception as error:  # the loop must outlive a bad round (database restart…)
            self.failures += 1
            log.exception(
                "dispatcher.round_failed",
                dispatcher=self.name,
                failures=self.failures,
                done=error.done if isinstance(error, RoundCutShort) else 0,
            )

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.attempt()
            self._nudge.wait(self.wait_seconds())
            self._nudge.clear()

    def wake(self) -> None:
        """Cut the current wait short: work is waiting."""
        self._nudge.set()

    def start(self) -> None:
        """Start the thread."""
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def ask_to_stop(self) -> None:
        """Tell the thread to stop after the round in flight, without waiting for it."""
        self._stop.set()
        self._nudge.set()

    def stop(self) -> None:
        """Stop the thread, waiting for the round in flight."""
        self.ask_to_stop()
        if self._thread is not None:
            self._thread.join(timeout=60)


class RunningJobs:
    """Started dispatchers and, on PostgreSQL, the listener that wakes them."""

    def __init__(
        self, dispatchers: list[Dispatcher], database_url: str, *, listen: bool = True
    ) -> None:
        self.dispatchers = {dispatcher.name: dispatcher for dispatcher in dispatchers}
        self.listener: WakeListener | None = None
        postgresql = make_url(normalise_url(database_url)).get_backend_name() == "postgresql"
        if listen and postgresql:
            self.listener = WakeListener(database_url, self.wake)

    def wake(self, job: str) -> None:
        """Wake the dispatcher named ``job`` (every one for ``EVERY_JOB``)."""
        names = list(self.dispatchers) if job == EVERY_JOB else [job]
        for name in names:
            if name in self.dispatchers:
                self.dispatchers[name].wake()

    def start(self) -> None:
        """Start every dispatcher, then the listener."""
        for dispatcher in self.dispatchers.values():
            dispatcher.start()
        if self.listener is not None:
            self.listener.start()

    def stop(self) -> None:
        """Stop the listener, then every dispatcher (each finishes its round in flight)."""
        if self.listener is not None:
            self.listener.stop()
        for dispatcher in self.dispatchers.values():
            dispatcher.ask_to_stop()
        for dispatcher in self.dispatchers.values():
            dispatcher.stop()


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
    # A batch another worker is running is its own: this one does not queue behind it.
    batch = run_batch(
        factory=runtime.factory,
        pipeline=runtime.pipeline,
        scan_id=waiting[0],
        size=runtime.settings.scan_batch_size,
        wait=False,
    )
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


def retention_round(runtime: Runtime) -> int:
    """Purge what is past its retention once; return how many rows were purged."""
    return sum(purge_round(factory=runtime.factory, retention=runtime.policy.retention).values())


def action_dispatcher(runtime: Runtime) -> Dispatcher:
    """Deliver takedowns and restores; never waits behind a slow webhook receiver."""
    settings = runtime.settings
    return Dispatcher(
        wake.ACTIONS,
        runtime.deliver_actions,
        min(settings.action_retry_seconds, settings.action_interval_seconds),
    )


def webhook_dispatcher(runtime: Runtime, client: httpx.Client) -> Dispatcher:
    """Send webhooks to flagger organisations and the leads, in their own thread."""
    settings = runtime.settings
    return Dispatcher(
        wake.WEBHOOKS,
        lambda: runtime.send_webhooks(client),
        min(settings.webhook_retry_seconds, settings.webhook_interval_seconds),
    )


def bot_notice_dispatcher(runtime: Runtime) -> Dispatcher:
    """Send the flaggers' bot notices, in their own thread (a slow Telegram delays no webhook)."""
    settings = runtime.settings
    return Dispatcher(
        wake.BOT_NOTICES,
        runtime.send_bot_notices,
        min(settings.webhook_retry_seconds, settings.webhook_interval_seconds),
    )


def eu_statement_dispatcher(runtime: Runtime, client: httpx.Client) -> Dispatcher:
    """Send the statements of reasons to the EU Transparency Database, in their own thread."""
    settings = runtime.settings
    return Dispatcher(
        wake.EU_STATEMENTS,
        lambda: runtime.send_eu_statements(client),
        settings.eu_database_interval_seconds,
    )


def background_jobs(runtime: Runtime, client: httpx.Client) -> list[Dispatcher]:
    """The jobs whose work waits in the database: any process may run them, any number at once
    (``tanggap worker``, or every serving process when ``TANGGAP_JOBS=inline``), each recording
    its rounds' heartbeats."""
    settings = runtime.settings
    jobs = [
        action_dispatcher(runtime),
        webhook_dispatcher(runtime, client),
        Dispatcher(wake.TRIAGE, lambda: triage_round(runtime), settings.triage_interval_seconds),
        Dispatcher(
            wake.DEADLINE_WATCH,
            lambda: deadline_round(runtime),
            settings.deadline_watch_interval_seconds,
        ),
        Dispatcher(wake.SCANS, lambda: scan_round(runtime), settings.scan_interval_seconds),
        Dispatcher(wake.AUDIT_SEALER, runtime.seal_audit, settings.seal_interval_seconds),
        Dispatcher(
            wake.RETENTION, lambda: retention_round(runtime), settings.retention_interval_seconds
        ),
    ]
    if runtime.bot is not None:
        jobs.append(bot_notice_dispatcher(runtime))
    if runtime.settings.eu_database_url:
        jobs.append(eu_statement_dispatcher(runtime, client))
    heartbeat = Heartbeats(runtime.factory)
    for job in jobs:
        job.heartbeat = heartbeat
    return jobs


def process_jobs(runtime: Runtime) -> list[Dispatcher]:
    """The jobs whose work waits in this process's memory, run by every serving process whatever
    its role: image hashing (the images' bytes are never stored, see ``screening.media``)."""
    hasher = Dispatcher(
        wake.MEDIA,
        runtime.media.run_once,
        runtime.settings.media_interval_seconds,
        Heartbeats(runtime.factory),
    )
    runtime.media.on_submit = hasher.wake
    return [hasher]


def serving_jobs(runtime: Runtime, client: httpx.Client) -> list[Dispatcher]:
    """The jobs a serving process runs in its role (``TANGGAP_JOBS``)."""
    if runtime.settings.jobs == "worker":
        return process_jobs(runtime)
    return background_jobs(runtime, client) + process_jobs(runtime)
