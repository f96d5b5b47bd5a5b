"""Cases: open or join one per reported post, list, claim, release."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.auth.schemas import Caller
from tanggap.cases import priority
from tanggap.cases.models import Case, Decision
from tanggap.cases.routing import UNDETERMINED_LANGUAGE, may_see, may_take
from tanggap.cases.schemas import OPEN_STATES
from tanggap.channels.models import Channel
from tanggap.db.base import utcnow
from tanggap.errors import Conflict, Forbidden, InvalidInput, NotFound
from tanggap.policy.schemas import Policy
from tanggap.policy.service import find_category
from tanggap.posts.models import Post
from tanggap.reviewers.schemas import Skills

REVIEW_AGAIN_AFTER = frozenset({"no_violation", "geo_restrict", "reverse"})


def provisional_queue(language: str | None, category: str) -> str:
    """Name a case's queue until triage settles it (``<language>:<category>``)."""
    # Triage (cases/triage.py) settles the queue once it knows who reads the language.
    return f"{language or UNDETERMINED_LANGUAGE}:{category}"


def _more_severe(policy: Policy, current: str, candidate: str) -> str:
    current_cat, candidate_cat = find_category(policy, current), find_category(policy, candidate)
    if current_cat is None or candidate_cat is None:
        return current
    return candidate if candidate_cat.severity > current_cat.severity else current


def lock_of_post(*, session: Session, post_id: int) -> Case | None:
    """Return the case of a post, locked for this transaction, or None."""
    return session.execute(
        select(Case)
        .where(Case.post_id == post_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def open_or_join(
    *,
    session: Session,
    post: Post,
    category: str,
    deadline: datetime,
    policy: Policy,
    actor: str,
    automated: bool = False,
) -> Case:
    """Return the case of ``post``, opening it, joining it or reopening it for a new report."""
    case = lock_of_post(session=session, post_id=post.id)
    if case is None:
        case = Case(
            post_id=post.id,
            state="open",
            category=category,
            language=post.language or UNDETERMINED_LANGUAGE,
            queue=provisional_queue(post.language, category),
            deadline=deadline,
            near_at=deadline,
            rank_at=deadline,
            triage_due=True,
            report_count=1,
            automated=automated,
        )
        session.add(case)
        session.flush()
        audit_case(session, actor, "case.opened", case, deadline=deadline, category=category)
        return case

    case.report_count += 1
    case.triage_due = True
    if case.state == "objected":
        # A new report on a post whose earlier report was objected to needs a reviewer again.
        case.state = "open"
    if case.state in OPEN_STATES:
        case.category = _more_severe(policy, case.category, category)
        case.queue = provisional_queue(case.language, case.category)
        case.deadline = min(case.deadline, deadline)
        audit_case(session, actor, "case.report_joined", case, deadline=case.deadline)
    elif case.state == "decided" and _last_outcome(session, case) in REVIEW_AGAIN_AFTER:
        # A new report on a post once found fine, or only restricted in some countries, is a
        # fresh question (a removal order for the whole post, say): it gets its own clock.
        case.state = "open"
        case.category = category
        case.queue = provisional_queue(case.language, category)
        case.deadline = deadline
        case.near_at = case.rank_at = deadline
        case.triaged_at = None
        case.breached_at = case.escalated_at = None
        case.lead_only = False
        case.escalation_reason = None
        case.decided_at = None
        case.claimed_by_id = None
        case.lease_expires_at = None
        audit_case(session, actor, "case.reopened", case, deadline=deadline, category=category)
    else:
        audit_case(session, actor, "case.report_joined", case, deadline=case.deadline)
    session.flush()
    return case


def _last_outcome(session: Session, case: Case) -> str | None:
    return session.execute(
        select(Decision.outcome)
        .where(Decision.case_id == case.id)
        .where(Decision.state == "final")
        .where(Decision.outcome != "uphold")  # an upheld decision stands as it was
        .order_by(Decision.decided_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def audit_case(session: Session, actor: str, action: str, case: Case, **data: object) -> None:
    """Record an audit event about ``case``."""
    audit.record(
        session=session,
        actor=actor,
        action=action,
        subject_type="case",
        subject_id=case.id,
        data={k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()},
    )


def get(
    *,
    session: Session,
    case_id: uuid.UUID,
    skills: Skills | None = None,
    policy: Policy | None = None,
) -> Case:
    """Return one case (one ``skills`` may see, when given) or raise NotFound."""
    query = select(Case).where(Case.id == case_id)
    if skills is not None and policy is not None:
        query = query.where(may_see(skills, policy))
    case = session.execute(query).scalar_one_or_none()
    if case is None:
        raise NotFound(f"no case {case_id}", field="case_id")
    return case


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
    states: list[str],
    category: str | None,
    language: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Case], int]:
    """Return the cases ``skills`` may see in ``states``, in hand-out order, with the total."""
    query = select(Case).where(Case.state.in_(states)).where(may_see(skills, policy))
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


def next_case(
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
        .where(Case.state.in_(OPEN_STATES))
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
    # One conditional UPDATE: of concurrent claimers only one matches the row.
    result = session.execute(
        update(Case)
        .where(Case.id == case_id)
        .where(Case.state.in_(OPEN_STATES))
        .where(_free(now, holder=caller.id))
        .where(may_take(skills, policy))
        .values(claimed_by_id=caller.id, lease_expires_at=now + lease, state="in_review")
        .execution_options(synchronize_session=False)
    )
    claimed = result.rowcount  # type: ignore[attr-defined]
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
    if case.state not in OPEN_STATES:
        raise Conflict(f"case {case.id} is {case.state}; only open cases can be claimed")
    until = case.lease_expires_at.isoformat() if case.lease_expires_at else "further notice"
    raise Conflict(f"case {case.id} is claimed by another reviewer until {until}")


def lock(*, session: Session, case_id: uuid.UUID) -> Case:
    """Return the case with its row locked until the transaction ends; raise NotFound."""
    case = session.execute(
        select(Case)
        .where(Case.id == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if case is None:
        raise NotFound(f"no case {case_id}", field="case_id")
    return case


def release(*, session: Session, caller: Caller, case_id: uuid.UUID) -> Case:
    """Give a claimed case back to its queue."""
    case = lock(session=session, case_id=case_id)
    require_claim(case=case, caller=caller)
    case.claimed_by_id = None
    case.lease_expires_at = None
    case.state = "open"
    session.flush()
    audit_case(session, caller.audit_actor, "case.released", case)
    return case


def require_claim(*, case: Case, caller: Caller) -> None:
    """Raise Conflict unless ``caller`` holds a live claim on ``case``."""
    if case.state not in OPEN_STATES:
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


def validate_category(*, policy: Policy, category: str, field: str = "category") -> None:
    """Raise InvalidInput unless ``category`` is one of the policy's."""
    if find_category(policy, category) is None:
        known = ", ".join(c.id for c in policy.categories)
        raise InvalidInput(f"unknown category {category!r}; known: {known}", field=field)


def post_of(*, session: Session, case: Case) -> tuple[Post, str]:
    """Return the case's post and its channel's handle."""
    row = session.execute(
        select(Post, Channel.handle)
        .join(Channel, Channel.id == Post.channel_id)
        .where(Post.id == case.post_id)
    ).one()
    return row[0], row[1]


def set_state(*, session: Session, case: Case, state: str, actor: str) -> None:
    """Move a case to ``state`` (releasing any claim), audited."""
    previous = case.state
    case.state = state
    case.claimed_by_id = None
    case.lease_expires_at = None
    session.flush()
    audit_case(session, actor, "case.state_changed", case, previous=previous, state=state)
