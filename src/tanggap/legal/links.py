"""What became of the reports a removal request produced: each outcome read from its case's
decision in force."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.cases import decisions
from tanggap.cases.schemas import RESTRICTING_OUTCOMES
from tanggap.legal.models import LegalRequest
from tanggap.legal.schemas import LinkOutcome, LinkState
from tanggap.reports.models import Report, ReportStatus


def link_outcomes(*, session: Session, request: LegalRequest) -> list[LinkOutcome]:
    """Return the outcome of every report the request names, in report id order."""
    ids = [uuid.UUID(text) for text in request.scope.get("report_ids", [])]
    if not ids:
        return []
    found = session.execute(select(Report).where(Report.id.in_(ids))).scalars()
    outcomes = []
    outcome: LinkState
    for report in sorted(found, key=lambda r: str(r.id)):
        decision = decisions.in_force(session=session, case_id=report.case_id)
        if report.status == ReportStatus.OBJECTED:
            outcome = "objected"
        elif decision is not None and decision.outcome in RESTRICTING_OUTCOMES:
            outcome = "actioned"
        elif decision is not None and decision.outcome == "no_violation":
            outcome = "declined"
        else:
            outcome = "pending"
        outcomes.append(LinkOutcome(report_id=report.id, case_id=report.case_id, outcome=outcome))
    return outcomes
