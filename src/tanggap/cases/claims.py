"""The queues: the order cases are handed out in, and claims on them under a lease."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from tanggap.auth.schemas import Caller
from tanggap.cases import priority, states
from tanggap.cases.models import Case
from tanggap.cases.routing import may_see, may_take
from tanggap.cases.service import audit_case, lock
from tanggap.cases.states import CaseState
from tanggap.db.base import utcnow
from tanggap.errors import Conflict, Forbidden, NotFound
from tanggap.policy.schemas import Policy
from tanggap.reviewers.schemas import Skills


def urgency(now: datetime) -> ColumnElement[int]:
    """The urgency band of a case as SQL (see cases/priority.py): overdue, near, later."""
    return sql_case(
        (Case.deadline <= now, priority.OVERDUE),
        (Case.near_at <= now, priority.NEAR),
        else_=priority.LATER,
    )


def queue_order(now: datetime) -> tuple[Any, ...]:
    """The order in which cases are handed out."""
    return (urgency(now), Case.rank_at, Case.opened_at, Case.id)


def list_cases(
    *,
    session: Session,
    skills: Skills,
    policy: Policy,
    states_wanted: Sequence[CaseState],
    category: str | None,
    language: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Case], int]:
    """Return the cases ``skills`` may see in ``states_wanted`` (none: no case), in hand-out
    order, with the total."""
    query = select(Case).where(Case.state.in_(states_wanted)).where(may_see(skills, policy))
    if category:
        query = query.where(Case.category == category)
    if language:
        query = query.where(Case.language == language)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.order_by(*queue_order(utcnow())).limit(limit).offset(offset)
    ).scalars()
    return list(rows), total


def _free(now: datetime, holder: uuid.UUID | None = None) -> ColumnElement[bool]:
    free = or_(Case.claimed_by_id.is_(None), Case.lease_expires_at < now)
    return or_(free, Case.claimed_by_id == holder) if holder is not None else free


def claim_next(
    *, session: Session, caller: Caller, skills: Skills, policy: Policy, lease: timedelta
) -> Case | None:
    """Claim the most urgent case ``skills`` may take, or return None when nothing waits."""
    if skills.paused:
        raise Conflict("you paused; resume to be handed cases", code="paused")
    now = utcnow()
    # PostgreSQL: rows another claimer is locking are skipped, so parallel claimers fan out
    # over the queue instead of queueing behind one row. SQLite: the transaction holds the
    # single write lock (BEGIN IMMEDIATE), so select-then-update cannot interleave.
    picked = session.execute(
        select(Case.id)
        .where(Case.state.in_(states.OPEN_STATES))
        .where(Case.triaged_at.is_not(None))
        .where(_free(now))
        .where(may_take(skills, policy))
        .order_by(*queue_order(now))
        .limit(1)
        .with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if picked is None:
        return None
    return claim(
        session=session, caller=caller, case_id=picked, lease=lease, skills=skills, policy=policy
    )


def claim(
    *,
    session: Session,
    caller: Caller,
    case_id: uuid.UUID,
    lease: timedelta,
    skills: Skills,
    policy: Policy,
) -> Case:
    """Hand the case to ``caller`` under a lease; nobody else holds it until the lease ends."""
    now = utcnow()
    claimed = states.enter_review(
        session,
        Case,
        case_id,
        _free(now, holder=caller.id),
        may_take(skills, policy),
        claimed_by_id=caller.id,
        lease_expires_at=now + lease,
    )
    case = session.get(Case, case_id, populate_existing=True)
    if case is None:
        raise NotFound(f"no case {case_id}", field="case_id")
    if claimed != 1:
        _refuse_claim(session, case, skills, policy)
    audit_case(
        session, caller.audit_actor, "case.claimed", case, lease_expires_at=case.lease_expires_at
    )
    return case


def _refuse_claim(session: Session, case: Case, skills: Skills, policy: Policy) -> NoReturn:
    visible = select(Case.id).where(Case.id == case.id).where(may_see(skills, policy))
    if session.execute(visible).first() is None:
        raise NotFound(f"no case {case.id}", field="case_id")
    if case.excluded_reviewer_id == skills.principal_id:
        raise Forbidden(f"case {case.id} appeals your own decision; another reviewer decides it")
    if case.state not in states.OPEN_STATES:
        raise Conflict(f"case {case.id} is {case.state}; only open cases can be claimed")
    until = case.lease_expires_at.isoformat() if case.lease_expires_at else "further notice"
    raise Conflict(f"case {case.id} is claimed by another reviewer until {until}")


def release(*, session: Session, caller: Caller, case_id: uuid.UUID) -> Case:
    """Give a claimed case back to its queue."""
    case = lock(session=session, case_id=case_id)
    require_claim(case=case, caller=caller)
    states.move(case, CaseState.OPEN)
    session.flush()
    audit_case(session, caller.audit_actor, "case.released", case)
    return case


def require_claim(*, case: Case, caller: Caller) -> None:
    """Raise Conflict unless ``caller`` holds a live claim on ``case``."""
    if case.state not in states.OPEN_STATES:
        raise Conflict(f"case {case.id} is {case.state}", field="case_id")
    if case.claimed_by_id != caller.id:
        raise Conflict(
            f"case {case.id} is not claimed by you; claim it first",
            field="case_id",
            code="not_claimed",
        )
    if case.lease_expires_at is None or case.lease_expires_at < utcnow():
        raise Conflict(
            f"your claim on case {case.id} expired; claim it again",
            field="case_id",
            code="not_claimed",
        )
