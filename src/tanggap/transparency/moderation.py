"""1.4 own-initiative moderation, 1.5 complaints and suspensions, 1.6 automated means."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import ColumnElement, case, exists, func, select
from sqlalchemy.orm import Session

from tanggap.appeals.models import Appeal, AppealState
from tanggap.cases.models import Case, Decision, DecisionState
from tanggap.detection.models import Signal
from tanggap.policy.schemas import Policy
from tanggap.transparency.categories import dsa_category
from tanggap.transparency.period import Period
from tanggap.transparency.schemas import (
    Automation,
    Complaints,
    CountByCategory,
    CountByMethod,
    CountByOutcome,
    OwnInitiative,
)
from tanggap.transparency.sql import count_if, medians, seconds_between, share, whole, within

# A case detection opened is counted once, under the strongest kind of signal on its post.
METHODS = ("hash_match", "rule", "near_duplicate", "classifier")
OTHER_METHOD = "other"
UNDECIDED = "undecided"
BANS = ("ban_channel", "ban_member")


def first_instance() -> ColumnElement[bool]:
    """Return the SQL for a decision in force that is not the answer to an appeal."""
    return (Decision.state == DecisionState.FINAL) & Decision.appeal_id.is_(None)


def own_initiative(*, session: Session, policy: Policy, period: Period) -> OwnInitiative:
    """Count the cases detection opened in the period, by category, restriction and method."""
    standing = (
        select(Decision.outcome)
        .where(Decision.case_id == Case.id)
        .where(first_instance())
        .order_by(Decision.decided_at.desc())
        .limit(1)
        .correlate(Case)
        .scalar_subquery()
    )
    rank = case(
        *((Signal.kind == kind, place) for place, kind in enumerate(METHODS)),
        else_=len(METHODS),
    )
    method = (
        select(func.min(rank)).where(Signal.post_id == Case.post_id).correlate(Case)
    ).scalar_subquery()
    automated = exists(
        select(Decision.id)
        .where(Decision.case_id == Case.id)
        .where(first_instance())
        .where(Decision.automated.is_(True))
    ).correlate(Case)
    opened = (
        select(
            Case.category.label("category"),
            func.coalesce(standing, UNDECIDED).label("restriction"),
            func.coalesce(method, len(METHODS)).label("method"),
            case((automated, 1), else_=0).label("by_machine"),
        )
        .where(within(Case.opened_at, period))
        .where(Case.automated.is_(True))
        .subquery()
    )

    # One pass over the cases: every breakdown is a sum of these groups.
    columns = (opened.c.category, opened.c.restriction, opened.c.method, opened.c.by_machine)
    by_category: Counter[str] = Counter()
    by_restriction: Counter[str] = Counter()
    by_method: Counter[int] = Counter()
    by_machine = 0
    for category, restriction, method, machine, count in session.execute(
        select(*columns, func.count()).group_by(*columns)
    ):
        by_category[category] += count
        by_restriction[restriction] += count
        by_method[method] += count
        by_machine += count if machine else 0
    names = (*METHODS, OTHER_METHOD)
    return OwnInitiative(
        cases=sum(by_category.values()),
        decided_automatically=by_machine,
        by_category=[
            CountByCategory(category=c, dsa_category=dsa_category(policy, c), count=n)
            for c, n in sorted(by_category.items())
        ],
        by_restriction=[
            CountByOutcome(outcome=o, count=n) for o, n in sorted(by_restriction.items())
        ],
        by_detection_method=[
            CountByMethod(method=names[m], count=n) for m, n in sorted(by_method.items())
        ],
    )


def complaints(*, session: Session, period: Period) -> Complaints:
    """Count the appeals filed in the period by outcome, and the bans decided in it."""
    filed = within(Appeal.filed_at, period)
    received, upheld, reversed_, pending = session.execute(
        select(
            func.count(),
            count_if(Appeal.state == AppealState.UPHELD),
            count_if(Appeal.state == AppealState.REVERSED),
            count_if(Appeal.state == AppealState.OPEN),
        ).where(filed)
    ).one()
    to_decide = seconds_between(session, Appeal.decided_at, Appeal.filed_at)
    median = medians(session, select(to_decide).where(filed & Appeal.decided_at.is_not(None))).get(
        ()
    )
    bans = dict(
        session.execute(
            select(Decision.outcome, func.count())
            .where(within(Decision.decided_at, period))
            .where(first_instance())
            .where(Decision.outcome.in_(BANS))
            .group_by(Decision.outcome)
        ).all()
    )
    return Complaints(
        received=received,
        upheld=upheld,
        reversed=reversed_,
        pending=pending,
        median_seconds_to_decide=whole(median),
        channel_bans=bans.get("ban_channel", 0),
        member_bans=bans.get("ban_member", 0),
    )


def automation(*, session: Session, period: Period) -> Automation:
    """Count the decisions of the period taken automatically, the signals detection recorded,
    and the automated decisions an appeal reversed."""
    decided = within(Decision.decided_at, period) & first_instance()
    decisions, automated = session.execute(
        select(func.count(), count_if(Decision.automated.is_(True))).where(decided)
    ).one()
    reversed_ = session.execute(
        select(func.count())
        .select_from(Decision)
        .join(Appeal, Appeal.appealed_decision_id == Decision.id)
        .where(decided & Decision.automated.is_(True))
        .where(Appeal.state == AppealState.REVERSED)
    ).scalar_one()
    detections = session.execute(
        select(func.count()).where(within(Signal.created_at, period))
    ).scalar_one()
    return Automation(
        decisions=decisions,
        fully_automated=automated,
        fully_automated_share=share(automated, decisions),
        automated_detections=detections,
        automated_reversed_on_appeal=reversed_,
        automated_reversal_rate=share(reversed_, automated),
    )
