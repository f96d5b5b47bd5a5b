"""Record the rounds of background jobs, and read how long ago each last succeeded."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from tanggap.db.base import insert_skipping_conflicts, rowcount, utcnow
from tanggap.heartbeats.models import JobHeartbeat

log = structlog.get_logger(__name__)
# A job round every second would be a write every second: a process records a job's round at
# most this often, and at once when the round's outcome changes (ok after failed, or back).
WRITE_EVERY_SECONDS = 5.0


def this_process() -> str:
    """Name this process: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def record(*, session: Session, job: str, process: str, ok: bool, at: datetime) -> None:
    """Record a round of ``job`` in ``process`` at ``at``; a successful one is its last ok."""
    values: dict[str, object] = {"last_round_at": at}
    if ok:
        values["last_ok_at"] = at
    moved = session.execute(
        update(JobHeartbeat)
        .where(JobHeartbeat.job == job, JobHeartbeat.process == process)
        .values(**values)
    )
    if rowcount(moved) == 0:
        session.execute(
            insert_skipping_conflicts(session, JobHeartbeat, "job", "process").values(
                job=job, process=process, last_round_at=at, last_ok_at=at if ok else None
            )
        )


def last_ok(*, session: Session) -> dict[str, datetime | None]:
    """Return, for each job with a heartbeat, its newest successful round in any process (None
    if it never succeeded)."""
    rows = session.execute(
        select(JobHeartbeat.job, func.max(JobHeartbeat.last_ok_at)).group_by(JobHeartbeat.job)
    ).all()
    return {job: at for job, at in rows}


class Heartbeats:
    """The heartbeats of one process's jobs, written in transactions of their own. Recording
    never raises: a database that cannot be written to shows as a stale heartbeat."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        process: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.factory = factory
        self.process = process or this_process()
        self._clock = clock
        self._written: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def beat(self, job: str, *, ok: bool) -> None:
        """Record a round of ``job`` (rate-limited: see ``WRITE_EVERY_SECONDS``)."""
        now = time.monotonic()
        with self._lock:
            written = self._written.get(job)
            if written is not None and written[1] == ok and now - written[0] < WRITE_EVERY_SECONDS:
                return
            self._written[job] = (now, ok)
        try:
            with self.factory() as session, session.begin():
                record(session=session, job=job, process=self.process, ok=ok, at=self._clock())
        except Exception:  # the job goes on; its heartbeat grows stale
            log.exception("heartbeat.not_recorded", job=job)
