"""Cases: one per reported post. Open, join or reopen a post's case; find and lock cases; record
triage's verdict."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.cases import decisions, states
from tanggap.cases.models import Case
from tanggap.cases.priority import Priority
from tanggap.cases.routing import FALLBACK, UNDETERMINED_LANGUAGE, may_see
from tanggap.cases.states import CaseState
from tanggap.channels.models import Channel
from tanggap.db.base import new_id, rowcount
from tanggap.db.wake import TRIAGE, wake
from tanggap.errors import NotFound
from tanggap.policy.schemas import Policy
from tanggap.policy.service import find_category
from tanggap.posts.models import Post
from tanggap.reviewers.schemas import Skills

# Outcomes after which a new report on the post is a fresh question for a reviewer.
REVIEW_AGAIN_AFTER = frozenset({"no_violation", "geo_restrict", "reverse"})


def provisional_queue(language: str | None, category: str) -> str:
    """Name a case's queue until triage settles it (``<language>:<category>``)."""
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


def locks_of_posts(*, session: Session, post_ids: Collection[int]) -> dict[int, Case]:
    """Return the cases of ``post_ids`` that exist, by post id, locked in id order."""
    if not post_ids:
        return {}
    return {
        case.post_id: case
        for case in session.execute(
            select(Case)
            .where(Case.post_id.in_(list(post_ids)))
            .order_by(Case.post_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalars()
    }


def new_case(
    *, post: Post, category: str, deadline: datetime, report_count: int, automated: bool
) -> Case:
    """A case for ``post``, open in its provisional queue until triage (the caller adds it)."""
    return Case(
        id=new_id(),  # known before the flush: the audit event and the report name it
        post_id=post.id,
        state=states.INITIAL,
        category=category,
        language=post.language or UNDETERMINED_LANGUAGE,
        queue=provisional_queue(post.language, category),
        deadline=deadline,
        near_at=deadline,
        rank_at=deadline,
        triage_due=True,
        report_count=report_count,
        automated=automated,
    )


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
    return open_or_join_locked(
        session=session,
        case=lock_of_post(session=session, post_id=post.id),
        post=post,
        category=category,
        deadline=deadline,
        policy=policy,
        actor=actor,
        automated=automated,
    )


def open_or_join_locked(
    *,
    session: Session,
    case: Case | None,
    post: Post,
    category: str,
    deadline: datetime,
    policy: Policy,
    actor: str,
    automated: bool = False,
    held: list[Case] | None = None,
) -> Case:
    """Open, join or reopen ``case``, the post's case as the caller locked it (None: it has
    none yet). Nothing is flushed: a batch writes its cases together (a new one goes to
    ``held``, when given, for the caller to insert, instead of into the session)."""
    if case is None:
        case = new_case(
            post=post, category=category, deadline=deadline, report_count=1, automated=automated
        )
        if held is None:
            session.add(case)
        else:
            held.append(case)
        audit_case(session, actor, "case.opened", case, deadline=deadline, category=category)
        wake(session, TRIAGE)
        return case

    case.report_count += 1
    case.triage_due = True
    wake(session, TRIAGE)
    if case.state == CaseState.OBJECTED:
        # A new report on a post whose earlier report was objected to needs a reviewer again.
        states.move(case, CaseState.OPEN)
    if case.state in states.OPEN_STATES:
        case.category = _more_severe(policy, case.category, category)
        case.queue = provisional_queue(case.language, case.category)
        case.deadline = min(case.deadline, deadline)
        audit_case(session, actor, "case.report_joined", case, deadline=case.deadline)
    elif case.state == CaseState.DECIDED and _asks_again(session, case):
        # A new report on a post once found fine, or only restricted in some countries, is a
        # fresh question (a removal order for the whole post, say): it gets its own clock.
        states.move(case, CaseState.OPEN)
        case.category = category
        case.queue = provisional_queue(case.language, category)
        case.deadline = deadline
        case.near_at = case.rank_at = deadline
        case.triaged_at = None
        case.breached_at = case.escalated_at = None
        case.lead_only = False
        case.escalation_reason = None
        case.decided_at = None
        audit_case(session, actor, "case.reopened", case, deadline=deadline, category=category)
    else:
        audit_case(session, actor, "case.report_joined", case, deadline=case.deadline)
    return case


def _asks_again(session: Session, case: Case) -> bool:
    decision = decisions.in_force(session=session, case_id=case.id)
    return decision is not None and decision.outcome in REVIEW_AGAIN_AFTER


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


def post_of(*, session: Session, case: Case) -> tuple[Post, str]:
    """Return the case's post and its channel's handle."""
    row = session.execute(
        select(Post, Channel.handle)
        .join(Channel, Channel.id == Post.channel_id)
        .where(Post.id == case.post_id)
    ).one()
    return row[0], row[1]


def move(*, session: Session, case: Case, state: CaseState, actor: str) -> None:
    """Move a case to ``state`` (releasing any claim), audited as a plain state change."""
    previous = states.move(case, state)
    session.flush()
    audit_case(session, actor, "case.state_changed", case, previous=previous, state=state)


def record_triage(
    *, session: Session, case: Case, scored: Priority, queue: str, now: datetime, actor: str
) -> None:
    """Settle a case's queue and priority as triage found them; audit only a change."""
    changed = (
        queue != case.queue
        or scored.head_start_minutes != case.priority
        or scored.rank_at != case.rank_at
        or case.triaged_at is None
    )
    case.queue = queue
    case.priority = scored.head_start_minutes
    case.priority_factors = scored.factor_dicts()
    case.near_at = scored.near_at
    case.rank_at = scored.rank_at
    case.triaged_at = now
    if changed:
        audit_case(session, actor, "case.triaged", case, queue=queue, priority=case.priority)


def retriage_fallback(*, session: Session, languages: list[str]) -> int:
    """Send cases waiting in the fallback queue back to triage once someone reads their language."""
    sent_back = rowcount(
        session.execute(
            update(Case)
            .where(Case.state.in_(states.OPEN_STATES))
            .where(Case.queue.like(f"{FALLBACK}:%"))
            .where(Case.language.in_(languages))
            .values(triage_due=True)
            .execution_options(synchronize_session=False)
        )
    )
    if sent_back:
        wake(session, TRIAGE)
    return sent_back
