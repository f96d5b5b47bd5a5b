"""Prometheus metrics of one process, served at ``/metrics``."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class RequestTimer:
    """Observe the duration of every request under its route template (not its raw path)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            REQUEST_SECONDS.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - started
            )
