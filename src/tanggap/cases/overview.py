"""The console's overview: what waits in each queue, what is escalated, what awaits approval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tanggap.cases.models import Case, Decision, DecisionState
from tanggap.cases.routing import is_fallback, may_see
from tanggap.cases.states import OPEN_STATES, CaseState
from tanggap.policy.schemas import Policy
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


def queues(*, session: Session, skills: Skills, policy: Policy, now: datetime) -> list[QueueRow]:
    """Count what waits in each queue ``skills`` may see; overdue and near-deadline first."""
    rows = session.execute(
        select(
            Case.queue,
            func.sum(sql_case((Case.state == CaseState.OPEN, 1), else_=0)),
            func.sum(sql_case((Case.state == CaseState.IN_REVIEW, 1), else_=0)),
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
            .where(Case.state == CaseState.AWAITING_APPROVAL)
            .where(Decision.state == DecisionState.PENDING_APPROVAL)
            .where(Decision.decided_by_id != skills.principal_id)
            .where(may_see(skills, policy))
            .order_by(Decision.decided_at)
        ).all()
    ]
