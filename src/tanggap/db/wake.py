"""Wake-ups for the background jobs: the transaction that creates work names the job that does
it; once it commits (nothing on rollback) the process's ``WakeSender`` sends
``NOTIFY tanggap_jobs, '<job>'``, and a worker listening on one dedicated connection runs that job
at once instead of at its next poll. SQLite has no such channel: there the jobs poll, as they
always do when a wake-up is lost.

Why not NOTIFY inside the transaction that made the work: PostgreSQL makes every transaction that
sent a notification take one lock, for the whole database, from just before its commit until
after it (so that notifications queue in commit order). Intake would then commit one transaction
at a time, the global wait the lock-free audit log removed. The sender instead gathers the jobs of
the commits of a short window (``SEND_WINDOW_SECONDS``) and notifies them in one round of its
own, outside every writer's transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)
CHANNEL = "tanggap_jobs"
# The jobs, by the name of the dispatcher that runs each one.
ACTIONS = "action-dispatcher"
WEBHOOKS = "webhook-dispatcher"
BOT_NOTICES = "bot-notices"
TRIAGE = "triage"
DEADLINE_WATCH = "deadline-watch"
SCANS = "scans"
MEDIA = "media"
EU_STATEMENTS = "eu-statements"
# Polled only (every TANGGAP_SEAL_INTERVAL_SECONDS): a NOTIFY from every audited transaction would
# queue their commits on PostgreSQL's notification lock, the global wait the sealer removed.
AUDIT_SEALER = "audit-sealer"
# Polled only (every TANGGAP_RETENTION_INTERVAL_SECONDS): nothing a transaction writes makes
# retention due sooner.
RETENTION = "retention"
# Told to every job after the listening connection was (re)opened: a wake-up sent while it was
# down is lost, so each job looks for work once.
EVERY_JOB = "*"
RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 30.0
CHECK_STOP_SECONDS = 1.0


SEND_WINDOW_SECONDS = 0.05
# Where a session keeps the jobs its transaction woke, and the sender of its process.
WOKEN = "tanggap.wake.woken"
SENDER = "tanggap.wake.sender"


def wake(session: Session, job: str) -> None:
    """Wake ``job`` in the workers once this transaction commits (nothing on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        session.info.setdefault(WOKEN, set()).add(job)


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    woken = session.info.pop(WOKEN, None)
    sender = session.info.get(SENDER)
    if woken and sender is not None:
        sender.send(woken)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(WOKEN, None)


class WakeSender:
    """Sends the wake-ups of a process's commits: the jobs woken within a short window go out
    together, in a thread and a connection of their own, outside the writers' transactions."""

    def __init__(self, engine: Engine, window: float = SEND_WINDOW_SECONDS) -> None:
        self.engine = engine
        self.window = window
        self._lock = threading.Lock()
        self._jobs: set[str] = set()
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def send(self, jobs: set[str]) -> None:
        """Queue ``jobs`` to be told to the workers within the window."""
        with self._lock:
            self._jobs |= jobs
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="wake-sender", daemon=True)
                self._thread.start()
        self._ready.set()

    def stop(self) -> None:
        """Send what waits, then stop the thread."""
        self._stop.set()
        self._ready.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            self._ready.wait()
            stopping = self._stop.wait(self.window)  # gather the commits of the window
            self._ready.clear()
            with self._lock:
                jobs, self._jobs = self._jobs, set()
            if jobs:
                self._notify(jobs)
            if stopping:
                return

    def _notify(self, jobs: set[str]) -> None:
        try:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for job in sorted(jobs):
                    conn.execute(
                        text("SELECT pg_notify(:channel, :job)"), {"channel": CHANNEL, "job": job}
                    )
        except Exception as exc:  # the workers still poll: a lost wake-up only delays the work
            log.warning("wake.send_failed", jobs=sorted(jobs), error=f"{type(exc).__name__}: {exc}")


def libpq_url(database_url: str) -> str:
    """Return ``database_url`` as libpq reads it (no SQLAlchemy driver name)."""
    parsed = make_url(database_url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class WakeListener:
    """A thread holding one connection with ``LISTEN tanggap_jobs``; it hands every job name it
    hears to ``on_wake``. A lost connection is opened again with back-off (doubling from half a
    second, capped at 30 s); once it is back every job is woken (``EVERY_JOB``)."""

    def __init__(self, database_url: str, on_wake: Callable[[str], None]) -> None:
        self.url = libpq_url(database_url)
        self.on_wake = on_wake
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()

    def start(self) -> None:
        """Start listening in a thread of its own."""
        self._thread = threading.Thread(target=self._run, name="wake-listener", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and close the connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        delay = RETRY_FIRST_SECONDS
        while not self._stop.is_set():
            try:
                self._listen()
                delay = RETRY_FIRST_SECONDS
            except Exception as exc:  # the database restarted, the network dropped…
                self.listening.clear()
                log.warning("wake.listen_lost", error=f"{type(exc).__name__}: {exc}", retry=delay)
                self._stop.wait(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)

    def _listen(self) -> None:
        import psycopg

        # Keep-alives notice a peer that vanished without closing the connection (TCP only).
        with psycopg.connect(
            self.url, autocommit=True, keepalives=1, keepalives_idle=30, keepalives_count=3
        ) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            log.info("wake.listening", channel=CHANNEL)
            self.on_wake(EVERY_JOB)
            while not self._stop.is_set():
                for notice in connection.notifies(timeout=CHECK_STOP_SECONDS):
                    self.on_wake(notice.payload)
                    if self._stop.is_set():
                        break
