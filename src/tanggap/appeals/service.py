"""Appeals against decisions, and the statement of reasons for a post."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.actions.models import Action
from tanggap.appeals.models import Appeal
from tanggap.appeals.schemas import AppealIn, AppealOut, Redress, StatementOfReasons
from tanggap.audit import service as audit
from tanggap.auth.schemas import Caller
from tanggap.cases import service as cases
from tanggap.cases.models import Case, Decision
from tanggap.cases.schemas import RESTRICTING_OUTCOMES
from tanggap.db.base import utcnow
from tanggap.errors import Conflict, InvalidInput, NotFound
from tanggap.policy.schemas import Policy
from tanggap.policy.service import find_category
from tanggap.posts import service as posts
from tanggap.posts.models import Post
from tanggap.reports.models import Report

# DSA Art. 20(1): complaints can be lodged for at least six months after the decision.
COMPLAINT_WINDOW = timedelta(days=183)
RESTRICTION = {
    "remove": "removal",
    "geo_restrict": "geo_restriction",
    "ban_channel": "channel_suspension",
    "no_violation": "none",
}
VISIBILITY = {
    "remove": "DECISION_VISIBILITY_CONTENT_REMOVED",
    "geo_restrict": "DECISION_VISIBILITY_CONTENT_DISABLED",
}


def _post(session: Session, channel: str, message_id: int) -> Post:
    post = posts.get(session=session, handle=channel, message_id=message_id)
    if post is None:
        raise NotFound(f"no post {posts.post_url(channel, message_id)}", field="message_id")
    return post


def _standing_decision(session: Session, case_id: object) -> Decision | None:
    """The newest final decision that is not an appeal's answer: the one a statement explains."""
    return (
        session.execute(
            select(Decision)
            .where(Decision.case_id == case_id)
            .where(Decision.state == "final")
            .where(Decision.appeal_id.is_(None))
            .order_by(Decision.decided_at.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def file(*, session: Session, caller: Caller, data: AppealIn, policy: Policy) -> Appeal:
    """File an appeal against the decision restricting a post; it becomes a case again, for a
    reviewer other than the decision's author."""
    post = _post(session, data.channel, data.message_id)
    case = cases.lock_of_post(session=session, post_id=post.id)
    decision = _standing_decision(session, case.id) if case else None
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
    if case.state != "decided":
        raise Conflict(
            f"case {case.id} is {case.state}; appeal once it is decided", field="message_id"
        )
    now = utcnow()
    appeal = Appeal(
        case_id=case.id,
        appealed_decision_id=decision.id,
        reason=data.reason,
        filed_by_id=caller.id,
        state="open",
        filed_at=now,
        deadline=now + policy.triage.appeal_deadline,
    )
    session.add(appeal)
    session.flush()
    case.appeal_id = appeal.id
    case.excluded_reviewer_id = decision.decided_by_id
    case.state = "open"
    case.deadline = appeal.deadline
    case.near_at = case.rank_at = appeal.deadline
    case.triage_due = True
    case.triaged_at = None
    case.escalated_at = case.breached_at = None
    case.decided_at = None
    session.flush()
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
        state=appeal.state,  # type: ignore[arg-type]
        filed_at=appeal.filed_at,
        deadline=appeal.deadline,
        decided_at=appeal.decided_at,
        decision_id=appeal.decision_id,
    )


def get(*, session: Session, appeal_id: object) -> Appeal:
    """Return one appeal or raise NotFound."""
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(f"no appeal {appeal_id}", field="appeal_id")
    return appeal


def statement(
    *, session: Session, channel: str, message_id: int, policy: Policy
) -> StatementOfReasons:
    """Build the statement of reasons for the decision standing on a post."""
    post = _post(session, channel, message_id)
    case = session.execute(select(Case).where(Case.post_id == post.id)).scalar_one_or_none()
    decision = _standing_decision(session, case.id) if case else None
    if case is None or decision is None:
        raise NotFound(
            f"no decision on {posts.post_url(channel, message_id)} yet", field="message_id"
        )
    appeal = session.execute(
        select(Appeal).where(Appeal.appealed_decision_id == decision.id)
    ).scalar_one_or_none()
    category = find_category(policy, decision.category)
    assert category is not None
    sources = set(session.execute(select(Report.source).where(Report.case_id == case.id)).scalars())
    applied = (
        session.execute(
            select(Action.delivered_at)
            .where(Action.decision_id == decision.id)
            .where(Action.delivered_at.is_not(None))
        )
        .scalars()
        .first()
    )
    restriction = RESTRICTION[decision.outcome]
    if appeal is not None and appeal.state == "reversed":
        restriction = "restriction_lifted"
    return StatementOfReasons(
        decision_id=decision.id,
        channel=channel.lower(),
        message_id=message_id,
        url=posts.post_url(channel.lower(), message_id),
        restriction=restriction,  # type: ignore[arg-type]
        decision_visibility=VISIBILITY.get(decision.outcome),
        decision_account="DECISION_ACCOUNT_SUSPENDED"
        if decision.outcome == "ban_channel"
        else None,
        territorial_scope=list(decision.countries) if decision.outcome == "geo_restrict" else ["*"],
        facts_and_circumstances=decision.explanation,
        decision_ground=(
            None
            if decision.ground is None
            else "DECISION_GROUND_ILLEGAL_CONTENT"
            if decision.ground == "law"
            else "DECISION_GROUND_INCOMPATIBLE_CONTENT"
        ),
        legal_ground=decision.policy_ref if decision.ground == "law" else None,
        incompatible_content_ground=decision.policy_ref if decision.ground == "terms" else None,
        category=category.id,
        category_name=category.display_name("en"),
        dsa_category=category.dsa.category,
        dsa_keyword=category.dsa.keyword,
        source_type=(
            "SOURCE_TRUSTED_NOTIFIER"
            if "flagger" in sources
            else "SOURCE_ARTICLE_16"
            if "user" in sources
            else "SOURCE_VOLUNTARY"
        ),
        automated_detection=case.automated,
        automated_decision="AUTOMATED_DECISION_FULLY"
        if decision.automated
        else "AUTOMATED_DECISION_NOT_AUTOMATED",
        decided_at=decision.decided_at,
        application_date=applied,
        appeal=appeal_out(appeal) if appeal else None,
        redress=Redress(
            internal_complaint=(
                "The owner of the post may appeal through the platform's complaint form; "
                "a different reviewer decides the appeal."
            ),
            internal_complaint_until=decision.decided_at + COMPLAINT_WINDOW,
            out_of_court_settlement=(
                "A certified out-of-court dispute settlement body (DSA Art. 21)."
            ),
            judicial_redress="The courts of the Member State or country concerned.",
        ),
    )
