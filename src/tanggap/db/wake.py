"""Wake-ups for the background jobs: the transaction that creates work names the job that does
it (``NOTIFY tanggap_jobs, '<job>'``, delivered by PostgreSQL at commit, dropped at rollback), and
a worker listening on one dedicated connection runs that job at once instead of at its next poll.
SQLite has no such channel: there the jobs poll, as they always do when a wake-up is lost."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)
CHANNEL = "tanggap_jobs"
# The jobs, by the name of the dispatcher that runs each one.
ACTIONS = "action-dispatcher"
WEBHOOKS = "webhook-dispatcher"
TRIAGE = "triage"
DEADLINE_WATCH = "deadline-watch"
SCANS = "scans"
MEDIA = "media"
# Polled only (every TANGGAP_SEAL_INTERVAL_SECONDS): a NOTIFY from every audited transaction would
# queue their commits on PostgreSQL's notification lock, the global wait the sealer removed.
AUDIT_SEALER = "audit-sealer"
# Told to every job after the listening connection was (re)opened: a wake-up sent while it was
# down is lost, so each job looks for work once.
EVERY_JOB = "*"
RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 30.0
CHECK_STOP_SECONDS = 1.0


def wake(session: Session, job: str) -> None:
    """Wake ``job`` in the workers once this transaction commits (nothing on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, :job)"), {"channel": CHANNEL, "job": job})


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
