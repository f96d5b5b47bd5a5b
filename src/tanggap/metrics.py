"""Prometheus metrics, served at ``/metrics`` (request timing is observed by the HTTP
middleware).

Counters and histograms live in each process. With several processes serving (``tanggap serve
--workers N``, or several servers and workers on one machine) set ``PROMETHEUS_MULTIPROC_DIR``
to an empty folder, the same for all of them, before they start: each process then writes its
values to files there (prometheus_client's multiprocess mode) and a scrape of any of them sums
every process's. Without it, one process answers for itself (the embedded default). Gauges are
read from the database at each scrape (``gauges``), so every process answers the same."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
REGISTRY = CollectorRegistry()

REPORTS_RECEIVED = Counter(
    "tanggap_reports_received_total",
    "Reports accepted at intake (duplicates and replays not counted).",
    ["category", "order_type"],
    registry=REGISTRY,
)
DECISIONS = Counter(
    "tanggap_decisions_total", "Decisions recorded.", ["outcome"], registry=REGISTRY
)
ACTIONS_DELIVERED = Counter(
    "tanggap_actions_delivered_total", "Actions the platform applied.", ["kind"], registry=REGISTRY
)
ACTION_FAILURES = Counter(
    "tanggap_action_failures_total",
    "Failed delivery attempts of actions.",
    ["kind"],
    registry=REGISTRY,
)
ESCALATIONS = Counter(
    "tanggap_case_escalations_total",
    "Cases that passed the near-deadline point undecided (leads told).",
    registry=REGISTRY,
)
BREACHES = Counter(
    "tanggap_deadline_breaches_total",
    "Cases whose deadline passed undecided.",
    ["category"],
    registry=REGISTRY,
)
STREAM_POSTS = Counter(
    "tanggap_stream_posts_total",
    "Posts stored from the NATS stream (created, updated, or unchanged: a resend).",
    ["outcome"],
    registry=REGISTRY,
)
STREAM_DEAD_LETTERS = Counter(
    "tanggap_stream_dead_letters_total",
    "Stream messages sent to the dead-letter subject, by reason (the error's code).",
    ["reason"],
    registry=REGISTRY,
)
STREAM_REDELIVERIES = Counter(
    "tanggap_stream_redeliveries_total",
    "Stream messages received again (not acknowledged in time, or handed back).",
    registry=REGISTRY,
)
RETENTION_PURGED = Counter(
    "tanggap_retention_purged_total",
    "Rows purged by retention (free text blanked or row deleted), by kind of data.",
    ["kind"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "tanggap_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["method", "route", "status"],
    registry=REGISTRY,
)


def multiprocess_dir() -> str | None:
    """Return the folder the processes share their values in, or None for one process."""
    return os.environ.get(MULTIPROC_DIR_VARIABLE) or None


class _Scrape:
    """What one scrape reads: the counters and histograms (this process's, or every process's
    in multiprocess mode), then the collectors given."""

    def __init__(self, collectors: Iterable[Collector]):
        self.collectors = list(collectors)

    def collect(self) -> Iterator[Metric]:
        shared = multiprocess_dir()
        if shared is None:
            yield from REGISTRY.collect()
        else:
            summed = CollectorRegistry()
            MultiProcessCollector(summed, path=shared)
            yield from summed.collect()
        for collector in self.collectors:
            yield from collector.collect()


def exposition(collectors: Iterable[Collector] = ()) -> bytes:
    """Return the metrics in Prometheus's text format, with those of ``collectors``."""
    return generate_latest(_Scrape(collectors))
