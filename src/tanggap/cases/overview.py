"""The console's overview: what waits in each queue, and how well deadlines were kept."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tanggap.cases.models import Case, Decision
from tanggap.cases.routing import is_fallback, may_see
from tanggap.cases.schemas import OPEN_STATES
from tanggap.policy.schemas import Policy
from tanggap.reports.models import Report
from tanggap.reviewers.schemas import Skills


@dataclass
class QueueRow:
    """One queue as the overview shows it."""

    queue: str
    waiting: int
    in_review: int
    oldest_deadline: datetime | None
    overdue: int
    near_deadline: int

    @property
    def fallback(self) -> bool:
        """Tell whether this is the fallback queue (a language nobody reads)."""
        return is_fallback(self.queue)


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


def queues(*, session: Session, skills: Skills, policy: Policy, now: datetime) -> list[QueueRow]:
    """Count what waits in each queue ``skills`` may see; overdue and near-deadline first."""
    rows = session.execute(
        select(
            Case.queue,
            func.sum(sql_case((Case.state == "open", 1), else_=0)),
            func.sum(sql_case((Case.state == "in_review", 1), else_=0)),
            func.min(Case.deadline),
            func.sum(sql_case((Case.deadline <= now, 1), else_=0)),
            func.sum(sql_case(((Case.near_at <= now) & (Case.deadline > now), 1), else_=0)),
        )
        .where(Case.state.in_(OPEN_STATES))
        .where(may_see(skills, policy))
        .group_by(Case.queue)
    ).all()
    found = [
        QueueRow(queue, int(w or 0), int(r or 0), oldest, int(o or 0), int(n or 0))
        for queue, w, r, oldest, o, n in rows
    ]
    return sorted(found, key=lambda q: (-q.overdue, -q.near_deadline, q.oldest_deadline or now))


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
        .where(Report.status.in_(("actioned", "declined")))
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


def escalated(*, session: Session, skills: Skills, policy: Policy, limit: int = 20) -> list[Case]:
    """Cases past the near-deadline point (or handed to leads) that are still undecided."""
    return list(
        session.execute(
            select(Case)
            .where(Case.state.in_(OPEN_STATES))
            .where((Case.escalated_at.is_not(None)) | (Case.lead_only.is_(True)))
            .where(may_see(skills, policy))
            .order_by(Case.deadline)
            .limit(limit)
        ).scalars()
    )


def awaiting_approval(
    *, session: Session, skills: Skills, policy: Policy
) -> list[tuple[Case, Decision]]:
    """Decisions waiting for a second reviewer that ``skills`` may approve (not their own)."""
    return [
        (case, decision)
        for case, decision in session.execute(
            select(Case, Decision)
            .join(Decision, Decision.case_id == Case.id)
            .where(Case.state == "awaiting_approval")
            .where(Decision.state == "pending_approval")
            .where(Decision.decided_by_id != skills.principal_id)
            .where(may_see(skills, policy))
            .order_by(Decision.decided_at)
        ).all()
    ]
