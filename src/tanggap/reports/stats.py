"""How fast an organisation's reports are answered: counts, time to action, deadlines kept."""

from __future__ import annotations

import math
import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.db.base import utcnow
from tanggap.reports.models import Report
from tanggap.reports.schemas import OPEN_STATUSES, REPORT_STATUSES, SETTLED_STATUSES


class FlaggerStats(BaseModel):
    """An organisation's figures over the reports received in [since, until)."""

    since: datetime | None
    until: datetime | None
    total: int
    by_status: dict[str, int]
    open_overdue: int
    median_time_to_action_seconds: int | None
    p95_time_to_action_seconds: int | None
    within_deadline_share: float | None
    within_deadline: int
    past_deadline: int


def percentile(sorted_values: list[float], share: float) -> float:
    """Return the nearest-rank percentile (``share`` in 0..1) of ascending values."""
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


def for_org(
    *, session: Session, org_id: uuid.UUID, since: datetime | None, until: datetime | None
) -> FlaggerStats:
    """Compute the organisation's figures for reports received in the range."""
    query = select(Report.status, Report.received_at, Report.deadline, Report.decided_at).where(
        Report.flagger_org_id == org_id
    )
    if since is not None:
        query = query.where(Report.received_at >= since)
    if until is not None:
        query = query.where(Report.received_at < until)
    now = utcnow()
    by_status = dict.fromkeys(REPORT_STATUSES, 0)
    durations: list[float] = []
    kept = missed = overdue = 0
    for status, received_at, deadline, decided_at in session.execute(query):
        by_status[status] = by_status.get(status, 0) + 1
        if status in SETTLED_STATUSES and decided_at is not None:
            durations.append((decided_at - received_at).total_seconds())
            if decided_at <= deadline:
                kept += 1
            else:
                missed += 1
        elif status in OPEN_STATUSES and deadline < now:
            overdue += 1
            missed += 1
    durations.sort()
    judged = kept + missed
    return FlaggerStats(
        since=since,
        until=until,
        total=sum(by_status.values()),
        by_status=by_status,
        open_overdue=overdue,
        median_time_to_action_seconds=round(percentile(durations, 0.5)) if durations else None,
        p95_time_to_action_seconds=round(percentile(durations, 0.95)) if durations else None,
        within_deadline_share=round(kept / judged, 4) if judged else None,
        within_deadline=kept,
        past_deadline=missed,
    )
