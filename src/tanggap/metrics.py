"""Prometheus metrics of one process, served at ``/metrics`` (request timing is observed by the
HTTP middleware)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

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
REQUEST_SECONDS = Histogram(
    "tanggap_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
