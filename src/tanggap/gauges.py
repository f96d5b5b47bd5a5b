"""Gauges read from the database when ``/metrics`` is scraped, so that every process answers
the same: the outboxes' backlog, how long the oldest case has waited for triage, how long ago
each background job last finished a round without error (in any process), and the audit
sealer's lag."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import datetime

import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker

from tanggap.actions.models import Action
from tanggap.audit import service as audit
from tanggap.db.base import utcnow
from tanggap.eu_database.models import EuStatement
from tanggap.heartbeats import service as heartbeats
from tanggap.notify.models import Notification
from tanggap.outbox.backlog import backlog
from tanggap.review import triage

log = structlog.get_logger(__name__)
OUTBOXES = {"actions": Action, "webhooks": Notification, "eu_statements": EuStatement}


def outbox_gauges(session: Session, now: datetime) -> Iterator[GaugeMetricFamily]:
    """The rows due in each outbox, and how long the longest-due has waited past its time."""
    due = GaugeMetricFamily(
        "tanggap_outbox_due", "Outbox rows due for delivery now.", labels=["outbox"]
    )
    oldest = GaugeMetricFamily(
        "tanggap_outbox_oldest_due_seconds",
        "Seconds the longest-due outbox row has waited past its due time (0 when none is due).",
        labels=["outbox"],
    )
    for name, model in OUTBOXES.items():
        found = backlog(session=session, model=model, now=now)
        due.add_metric([name], found.due)
        oldest.add_metric([name], found.oldest_due_seconds(now))
    yield due
    yield oldest


def triage_gauges(session: Session, now: datetime) -> Iterator[GaugeMetricFamily]:
    """How long the case that has waited longest for triage has waited."""
    since = triage.oldest_waiting(session=session)
    yield GaugeMetricFamily(
        "tanggap_triage_oldest_waiting_seconds",
        "Seconds the case waiting longest for triage has waited (0 when none waits).",
        value=max(0.0, (now - since).total_seconds()) if since is not None else 0.0,
    )


def job_gauges(session: Session, now: datetime) -> Iterator[GaugeMetricFamily]:
    """Seconds since each background job last finished a round without error, in any process
    (+Inf for a job whose rounds have all failed)."""
    family = GaugeMetricFamily(
        "tanggap_job_seconds_since_ok",
        "Seconds since the job's last successful round in any process (+Inf: none succeeded).",
        labels=["job"],
    )
    for job, at in sorted(heartbeats.last_ok(session=session).items()):
        family.add_metric([job], (now - at).total_seconds() if at is not None else math.inf)
    yield family


def audit_gauges(session: Session, now: datetime) -> Iterator[GaugeMetricFamily]:
    """The audit sealer's lag (how long the oldest unsealed event has waited), the unsealed
    events, and the age of the newest signed checkpoint."""
    pending, oldest = audit.unsealed(session=session)
    yield GaugeMetricFamily(
        "tanggap_audit_unsealed_events", "Audit events waiting for the sealer.", value=pending
    )
    yield GaugeMetricFamily(
        "tanggap_audit_sealer_lag_seconds",
        "Seconds the oldest unsealed audit event has waited (0 when none waits).",
        value=max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0,
    )
    checkpoint = audit.last_checkpoint(session=session)
    yield GaugeMetricFamily(
        "tanggap_audit_checkpoint_age_seconds",
        "Seconds since the newest signed checkpoint (+Inf: none yet).",
        value=(now - checkpoint.signed_at).total_seconds() if checkpoint else math.inf,
    )


Reading = Callable[[Session, datetime], Iterator[GaugeMetricFamily]]

# Each reading is one function of a session and the time of the scrape.
READINGS: tuple[Reading, ...] = (outbox_gauges, triage_gauges, job_gauges, audit_gauges)


class DatabaseGauges(Collector):
    """A Prometheus collector that reads the gauges from the database at each scrape, in one
    read-only transaction; if the database cannot answer, the scrape still answers, with
    ``tanggap_database_gauges_ok`` 0."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        readings: tuple[Reading, ...] = READINGS,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.factory = factory
        self.readings = readings
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Read every gauge now."""
        now = self.clock()
        found: list[GaugeMetricFamily] = []
        try:
            with self.factory() as session, session.begin():
                for reading in self.readings:
                    found.extend(reading(session, now))
            ok = 1.0
        except Exception as exc:  # a scrape must answer even while the database does not
            log.warning("metrics.database_gauges_failed", error=f"{type(exc).__name__}: {exc}")
            found, ok = [], 0.0
        yield from found
        yield GaugeMetricFamily(
            "tanggap_database_gauges_ok",
            "1 when the gauges read from the database were read at this scrape.",
            value=ok,
        )
