"""Appeals by a post's owner against the decision restricting it."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.appeals.models import Appeal, AppealState
from tanggap.appeals.schemas import AppealIn, AppealOut
from tanggap.audit import service as audit
from tanggap.auth.schemas import Caller
from tanggap.cases import decisions, states
from tanggap.cases import service as cases
from tanggap.cases.models import Case, Decision
from tanggap.cases.schemas import RESTRICTING_OUTCOMES
from tanggap.cases.states import CaseState
from tanggap.db.base import utcnow
from tanggap.db.wake import TRIAGE, wake
from tanggap.errors import Conflict, InvalidInput, NotFound
from tanggap.policy.schemas import Policy
from tanggap.posts import service as posts
from tanggap.posts.models import Post
from tanggap.reports import service as reports


def post_named(session: Session, channel: str, message_id: int) -> Post:
    """Return the post ``channel``/``message_id`` or raise NotFound naming the message id."""
    post = posts.get(session=session, handle=channel, message_id=message_id)
    if post is None:
        raise NotFound(f"no post {posts.post_url(channel, message_id)}", field="message_id")
    return post


def first_instance(*, session: Session, case_id: uuid.UUID) -> Decision | None:
    """Return the decision that was (or may be) appealed and that a statement explains: the
    decision in force, or, when an appeal reversed it, the decision the appeal reversed."""
    decision = decisions.in_force(session=session, case_id=case_id)
    if decision is None or decision.appeal_id is None:
        return decision
    appeal = session.get(Appeal, decision.appeal_id)
    return session.get(Decision, appeal.appealed_decision_id) if appeal else None


def post_of_caller(
    *, session: Session, caller: Caller, channel: str, message_id: int, policy: Policy
) -> Post:
    """Return a post the caller may ask about: a platform principal only the posts it sent,
    staff those whose case and reports are in categories they are cleared for; anyone else gets
    NotFound, as for a post that does not exist."""
    post = post_named(session, channel, message_id)
    hidden = reports.hidden_categories(session=session, caller=caller, policy=policy)
    mine = posts.owned_by(post, caller.id) if caller.role == "platform" else caller.is_staff
    if not mine or reports.post_hidden(session=session, post_id=post.id, hidden=hidden):
        raise NotFound(f"no post {posts.post_url(channel, message_id)}", field="message_id")
    return post


def file(*, session: Session, caller: Caller, data: AppealIn, policy: Policy) -> Appeal:
    """File an appeal against the decision restricting a post the caller sent; it becomes a
    case again, for a reviewer other than the decision's author."""
    post = post_of_caller(
        session=session,
        caller=caller,
        channel=data.channel,
        message_id=data.message_id,
        policy=policy,
    )
    case = cases.lock_of_post(session=session, post_id=post.id)
    decision = first_instance(session=session, case_id=case.id) if case else None
    if case is None or decision is None or decision.outcome not in RESTRICTING_OUTCOMES:
        raise InvalidInput(
            "no decision restricts this post; there is nothing to appeal", field="message_id"
        )
    existing = session.execute(
        select(Appeal).where(Appeal.appealed_decision_id == decision.id)
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(
            f"decision {decision.id} was already appealed (appeal {existing.id}, {existing.state})",
            field="message_id",
        )
    if case.state != CaseState.DECIDED:
        raise Conflict(
            f"case {case.id} is {case.state}; appeal once it is decided", field="message_id"
        )
    now = utcnow()
    appeal = Appeal(
        case_id=case.id,
        appealed_decision_id=decision.id,
        reason=data.reason,
        filed_by_id=caller.id,
        state=AppealState.OPEN,
        filed_at=now,
        deadline=now + policy.triage.appeal_deadline,
    )
    session.add(appeal)
    session.flush()
    case.appeal_id = appeal.id
    case.excluded_reviewer_id = decision.decided_by_id
    states.move(case, CaseState.OPEN)
    case.deadline = appeal.deadline
    case.near_at = case.rank_at = appeal.deadline
    case.triage_due = True
    case.triaged_at = None
    case.escalated_at = case.breached_at = None
    case.decided_at = None
    session.flush()
    wake(session, TRIAGE)
    audit.record(
        session=session,
        actor=caller.audit_actor,
        action="appeal.filed",
        subject_type="appeal",
        subject_id=appeal.id,
        data={"case_id": str(case.id), "decision_id": str(decision.id)},
    )
    return appeal


def appeal_out(appeal: Appeal) -> AppealOut:
    """Shape an appeal."""
    return AppealOut(
        appeal_id=appeal.id,
        case_id=appeal.case_id,
        appealed_decision_id=appeal.appealed_decision_id,
        state=appeal.state,
        filed_at=appeal.filed_at,
        deadline=appeal.deadline,
        decided_at=appeal.decided_at,
        decision_id=appeal.decision_id,
    )


def get_visible(
    *, session: Session, caller: Caller, appeal_id: uuid.UUID, policy: Policy
) -> Appeal:
    """Return an appeal the caller may see (a platform principal those it filed, staff those on
    cases in categories they are cleared for) or raise NotFound."""
    appeal = session.get(Appeal, appeal_id)
    if appeal is not None and caller.role == "platform":
        visible = appeal.filed_by_id == caller.id
    elif appeal is not None and caller.is_staff:
        hidden = reports.hidden_categories(session=session, caller=caller, policy=policy)
        case = session.get(Case, appeal.case_id)
        visible = case is not None and not reports.post_hidden(
            session=session, post_id=case.post_id, hidden=hidden
        )
    else:
        visible = False
    if appeal is None or not visible:
        raise NotFound(f"no appeal {appeal_id}", field="appeal_id")
    return appeal
