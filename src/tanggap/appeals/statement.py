"""The statement of reasons for the decision standing on a post (EU DSA Art. 17)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.actions.models import Action
from tanggap.appeals.models import Appeal, AppealState
from tanggap.appeals.schemas import Redress, Restriction, SourceType, StatementOfReasons
from tanggap.appeals.service import appeal_out, first_instance, post_of_caller
from tanggap.auth.schemas import Caller
from tanggap.cases.models import Case, Decision
from tanggap.errors import NotFound
from tanggap.policy.schemas import Policy
from tanggap.policy.service import find_category
from tanggap.posts import service as posts
from tanggap.reports.models import Report

# DSA Art. 20(1): complaints can be lodged for at least six months after the decision.
COMPLAINT_WINDOW = timedelta(days=183)
RESTRICTION: dict[str, Restriction] = {
    "remove": "removal",
    "geo_restrict": "geo_restriction",
    "ban_channel": "channel_suspension",
    "ban_member": "removal_and_member_ban",
    "no_violation": "none",
}
VISIBILITY = {
    "remove": "DECISION_VISIBILITY_CONTENT_REMOVED",
    "ban_member": "DECISION_VISIBILITY_CONTENT_REMOVED",
    "geo_restrict": "DECISION_VISIBILITY_CONTENT_DISABLED",
}


def statement(
    *, session: Session, caller: Caller, channel: str, message_id: int, policy: Policy
) -> StatementOfReasons:
    """Build the statement of reasons for the decision standing on a post the caller may ask
    about (``post_of_caller``)."""
    post = post_of_caller(
        session=session, caller=caller, channel=channel, message_id=message_id, policy=policy
    )
    case = session.execute(select(Case).where(Case.post_id == post.id)).scalar_one_or_none()
    decision = first_instance(session=session, case_id=case.id) if case else None
    if case is None or decision is None:
        raise NotFound(
            f"no decision on {posts.post_url(channel, message_id)} yet", field="message_id"
        )
    return of_decision(
        session=session,
        case=case,
        decision=decision,
        channel=channel,
        message_id=message_id,
        policy=policy,
    )


def source_type(sources: set[str]) -> SourceType:
    """Return the DSA source of a decision from the sources of its case's reports: an
    authority's removal order, a trusted flagger's notice, a user's notice (Art. 16), or the
    platform's own initiative."""
    if "removal_order" in sources:
        return "SOURCE_TYPE_OTHER_NOTIFICATION"
    if "flagger" in sources:
        return "SOURCE_TRUSTED_FLAGGER"
    if "user" in sources:
        return "SOURCE_ARTICLE_16"
    return "SOURCE_VOLUNTARY"


def of_decision(
    *,
    session: Session,
    case: Case,
    decision: Decision,
    channel: str,
    message_id: int,
    policy: Policy,
) -> StatementOfReasons:
    """Build the statement of reasons of a first-instance ``decision`` on ``case`` (the post
    ``channel``/``message_id``), as it stands now (lifted when an appeal reversed it)."""
    appeal = session.execute(
        select(Appeal).where(Appeal.appealed_decision_id == decision.id)
    ).scalar_one_or_none()
    category = find_category(policy, decision.category)
    assert category is not None
    reports = session.execute(
        select(Report.source, Report.order_type).where(Report.case_id == case.id)
    ).all()
    sources = {source for source, _ in reports}
    sources |= {order for _, order in reports if order == "removal_order"}
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
    restoration = None
    account = None
    if decision.outcome == "ban_member":
        account = (
            f"The post was removed and its author banned from the group @{channel.lower()}: "
            "they can no longer post or read there."
        )
    if appeal is not None and appeal.state == AppealState.REVERSED:
        restriction = "restriction_lifted"
        restoration = _restoration(session, appeal)
        if account is not None:
            account = f"The author's ban from the group @{channel.lower()} was lifted on appeal."
    return StatementOfReasons(
        decision_id=decision.id,
        channel=channel.lower(),
        message_id=message_id,
        url=posts.post_url(channel.lower(), message_id),
        restriction=restriction,
        decision_visibility=VISIBILITY.get(decision.outcome),
        decision_account="DECISION_ACCOUNT_SUSPENDED"
        if decision.outcome in ("ban_channel", "ban_member")
        else None,
        account_restriction=account,
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
        source_type=source_type(sources),
        automated_detection=case.automated,
        automated_decision="AUTOMATED_DECISION_FULLY"
        if decision.automated
        else "AUTOMATED_DECISION_NOT_AUTOMATED",
        decided_at=decision.decided_at,
        application_date=applied,
        appeal=appeal_out(appeal) if appeal else None,
        restoration=restoration,
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


def _restoration(session: Session, appeal: Appeal) -> str | None:
    """Say so when the reversal queued nothing to bring the post back on the platform (lifting
    an author's ban from a group does not restore their post)."""
    undone = session.execute(
        select(Action.id)
        .where(Action.decision_id == appeal.decision_id)
        .where(Action.kind != "unban_member")
        .limit(1)
    ).first()
    if undone is not None:
        return None
    return (
        "The decision was reversed on appeal, but the platform cannot restore a deleted message "
        "(Telegram's Bot API has no such call): the post stays deleted there, and its owner "
        "may publish it again."
    )
