"""Cases: open or join one per reported post, list, claim, release."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.auth.schemas import Caller
from tanggap.cases.models import Case, Decision
from tanggap.cases.schemas import OPEN_STATES
from tanggap.channels.models import Channel
from tanggap.db.base import utcnow
from tanggap.errors import Conflict, InvalidInput, NotFound
from tanggap.policy.schemas import Policy
from tanggap.policy.service import find_category
from tanggap.posts.models import Post

UNDETERMINED_LANGUAGE = "und"
REVIEW_AGAIN_AFTER = frozenset({"no_violation", "geo_restrict"})


def queue_for(*, language: str | None, category: str) -> str:
    """Name the queue of a case: its language and category (``id:terrorism``)."""
    return f"{language or UNDETERMINED_LANGUAGE}:{category}"


def _more_severe(policy: Policy, current: str, candidate: str) -> str:
    current_cat, candidate_cat = find_category(policy, current), find_category(policy, candidate)
    if current_cat is None or candidate_cat is None:
        return current
    return candidate if candidate_cat.severity > current_cat.severity else current


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
    case = session.execute(
        select(Case)
        .where(Case.post_id == post.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if case is None:
        case = Case(
            post_id=post.id,
            state="open",
            category=category,
            language=post.language or UNDETERMINED_LANGUAGE,
            queue=queue_for(language=post.language, category=category),
            deadline=deadline,
            report_count=1,
            automated=automated,
        )
        session.add(case)
        session.flush()
        _audit(session, actor, "case.opened", case, deadline=deadline, category=category)
        return case

    case.report_count += 1
    if case.state == "objected":
        # A new report on a post whose earlier report was objected to needs a reviewer again.
        case.state = "open"
    if case.state in OPEN_STATES:
        case.category = _more_severe(policy, case.category, category)
        case.queue = queue_for(language=case.language, category=case.category)
        case.deadline = min(case.deadline, deadline)
        _audit(session, actor, "case.report_joined", case, deadline=case.deadline)
    elif case.state == "decided" and _last_outcome(session, case) in REVIEW_AGAIN_AFTER:
        # A new report on a post once found fine, or only restricted in some countries, is a
        # fresh question (a removal order for the whole post, say): it gets its own clock.
        case.state = "open"
        case.category = category
        case.queue = queue_for(language=case.language, category=category)
        case.deadline = deadline
        case.decided_at = None
        case.claimed_by_id = None
        case.lease_expires_at = None
        _audit(session, actor, "case.reopened", case, deadline=deadline, category=category)
    else:
        _audit(session, actor, "case.report_joined", case, deadline=case.deadline)
    session.flush()
    return case


def _last_outcome(session: Session, case: Case) -> str | None:
    return session.execute(
        select(Decision.outcome)
        .where(Decision.case_id == case.id)
        .order_by(Decision.decided_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def _audit(session: Session, actor: str, action: str, case: Case, **data: object) -> None:
    audit.record(
        session=session,
        actor=actor,
        action=action,
        subject_type="case",
        subject_id=case.id,
        data={k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()},
    )


def get(*, session: Session, case_id: uuid.UUID) -> Case:
    """Return one case or raise NotFound."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}", field="case_id")
    return case


def list_cases(
    *,
    session: Session,
    states: list[str],
    category: str | None,
    language: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Case], int]:
    """Return cases in ``states``, earliest deadline first, with the total count."""
    query = select(Case).where(Case.state.in_(states))
    if category:
        query = query.where(Case.category == category)
    if language:
        query = query.where(Case.language == language)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.order_by(Case.deadline, Case.opened_at, Case.id).limit(limit).offset(offset)
    ).scalars()
    return list(rows), total


def claim(*, session: Session, caller: Caller, case_id: uuid.UUID, lease: timedelta) -> Case:
    """Hand the case to ``caller`` under a lease; nobody else holds it until the lease ends."""
    now = utcnow()
    # One conditional UPDATE: of concurrent claimers only one matches the row.
    result = session.execute(
        update(Case)
        .where(Case.id == case_id)
        .where(Case.state.in_(OPEN_STATES))
        .where(
            or_(
                Case.claimed_by_id.is_(None),
                Case.claimed_by_id == caller.id,
                Case.lease_expires_at < now,
            )
        )
        .values(claimed_by_id=caller.id, lease_expires_at=now + lease, state="in_review")
        .execution_options(synchronize_session=False)
    )
    claimed = result.rowcount  # type: ignore[attr-defined]
    case = session.get(Case, case_id, populate_existing=True)
    if case is None:
        raise NotFound(f"no case {case_id}", field="case_id")
    if claimed != 1:
        if case.state not in OPEN_STATES:
            raise Conflict(f"case {case_id} is {case.state}; only open cases can be claimed")
        raise Conflict(
            f"case {case_id} is claimed by another reviewer until "
            f"{case.lease_expires_at.isoformat() if case.lease_expires_at else 'further notice'}"
        )
    _audit(
        session, caller.audit_actor, "case.claimed", case, lease_expires_at=case.lease_expires_at
    )
    return case


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
    _audit(session, caller.audit_actor, "case.released", case)
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
    _audit(session, actor, "case.state_changed", case, previous=previous, state=state)
