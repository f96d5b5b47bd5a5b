"""How well deadlines were kept: reports settled in a period, per queue and per source (the
console's overview)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.cases.models import Case
from tanggap.cases.routing import may_see
from tanggap.policy.schemas import Policy
from tanggap.reports.models import Report
from tanggap.reports.schemas import SETTLED_STATUSES
from tanggap.reviewers.schemas import Skills


@dataclass
class Compliance:
    """Deadlines kept for one group of settled reports."""

    group: str
    settled: int = 0
    within: int = 0
    seconds: list[float] = field(default_factory=list)

    @property
    def share_within(self) -> float | None:
        """Return the share settled within the deadline, or None with nothing settled."""
        return self.within / self.settled if self.settled else None

    @property
    def median_minutes(self) -> float | None:
        """Return the median time to action in minutes."""
        return statistics.median(self.seconds) / 60 if self.seconds else None


def compliance(
    *, session: Session, skills: Skills, policy: Policy, since: datetime
) -> tuple[list[Compliance], list[Compliance]]:
    """Deadlines kept by reports settled since ``since``, per queue and per source."""
    rows = session.execute(
        select(
            Case.queue,
            Report.source,
            Report.order_type,
            Report.received_at,
            Report.deadline,
            Report.decided_at,
        )
        .join(Case, Case.id == Report.case_id)
        .where(Report.decided_at >= since)
        .where(Report.status.in_(SETTLED_STATUSES))
        .where(may_see(skills, policy))
    ).all()
    by_queue: dict[str, Compliance] = {}
    by_source: dict[str, Compliance] = {}
    for queue, source, order_type, received_at, deadline, decided_at in rows:
        if decided_at is None:
            continue
        source_name = "removal_order" if order_type == "removal_order" else source
        for table, key in ((by_queue, queue), (by_source, source_name)):
            entry = table.setdefault(key, Compliance(group=key))
            entry.settled += 1
            entry.within += decided_at <= deadline
            entry.seconds.append((decided_at - received_at).total_seconds())
    order = defaultdict(int, {"removal_order": 0, "flagger": 1, "user": 2})
    return (
        sorted(by_queue.values(), key=lambda c: c.group),
        sorted(by_source.values(), key=lambda c: order[c.group]),
    )
