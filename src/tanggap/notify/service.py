"""The seam through which reporters hear about their reports (webhooks, e-mail…)."""

from __future__ import annotations

from typing import Protocol

import structlog
from sqlalchemy.orm import Session

from tanggap.cases.models import Case
from tanggap.reports.models import Report
from tanggap.threads.models import ReportMessage

log = structlog.get_logger(__name__)


class Notifier(Protocol):
    """Told of every change to a report inside the transaction that makes it."""

    def report_changed(
        self, *, session: Session, report: Report, event: str, message: ReportMessage | None = None
    ) -> None:
        """Queue what the report's owner should hear; must not do slow I/O here."""

    def case_escalated(self, *, session: Session, case: Case, reason: str) -> None:
        """Queue an alert to the leads: a case nears its deadline or a reviewer escalated it."""


class LogNotifier:
    """Writes each notification to the log (for deployments without webhooks)."""

    def report_changed(
        self, *, session: Session, report: Report, event: str, message: ReportMessage | None = None
    ) -> None:
        """Log the change."""
        log.debug(
            "report.changed", report_id=str(report.id), status=report.status, event_name=event
        )

    def case_escalated(self, *, session: Session, case: Case, reason: str) -> None:
        """Log the alert."""
        log.info("case.escalated", case_id=str(case.id), queue=case.queue, reason=reason)
