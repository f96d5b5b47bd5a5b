"""1.2.1 orders to act and 1.3 notices: the reports received in the period."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tanggap.cases.models import Decision
from tanggap.flaggers.models import FlaggerOrg
from tanggap.policy.schemas import Policy
from tanggap.reports.models import Report, ReportStatus
from tanggap.reports.schemas import OPEN_STATUSES, SETTLED_STATUSES
from tanggap.transparency.categories import dsa_category
from tanggap.transparency.period import Period
from tanggap.transparency.schemas import (
    CountByOutcome,
    Notices,
    NoticesByCategory,
    NoticesBySource,
    OrdersByCategory,
    OrdersByState,
    OrdersToAct,
)
from tanggap.transparency.sql import count_if, medians, seconds_between, whole, within

ORDER = "removal_order"
NOTICE = "notice"
SOURCES = ("flagger", "user")
UNKNOWN_COUNTRY = "unknown"


def orders_to_act(*, session: Session, policy: Policy, period: Period) -> OrdersToAct:
    """Count the removal orders received in the period, by member state and category."""
    received = within(Report.received_at, period) & (Report.order_type == ORDER)
    actioned = Report.status == ReportStatus.ACTIONED
    country = func.coalesce(FlaggerOrg.country, UNKNOWN_COUNTRY)
    by_state = session.execute(
        select(country, func.count(), count_if(actioned))
        .select_from(Report)
        .outerjoin(FlaggerOrg, FlaggerOrg.id == Report.flagger_org_id)
        .where(received)
        .group_by(country)
        .order_by(country)
    ).all()
    to_effect = seconds_between(session, Report.decided_at, Report.received_at)
    effect_by_state = medians(
        session,
        select(country, to_effect)
        .select_from(Report)
        .outerjoin(FlaggerOrg, FlaggerOrg.id == Report.flagger_org_id)
        .where(received & actioned),
        groups=1,
    )
    overall = medians(session, select(to_effect).where(received & actioned)).get(())
    by_category = session.execute(
        select(Report.category, func.count(), count_if(actioned))
        .where(received)
        .group_by(Report.category)
        .order_by(Report.category)
    ).all()
    total = sum(count for _, count, _ in by_state)
    return OrdersToAct(
        received=total,
        given_effect=sum(done for _, _, done in by_state),
        # The order is answered with its receipt (report id, deadline) in the same request.
        median_seconds_to_confirm=0 if total else None,
        median_seconds_to_effect=whole(overall),
        by_member_state=[
            OrdersByState(
                country=state,
                received=count,
                given_effect=done,
                median_seconds_to_effect=whole(effect_by_state.get((state,))),
            )
            for state, count, done in by_state
        ],
        by_category=[
            OrdersByCategory(
                category=category,
                dsa_category=dsa_category(policy, category),
                received=count,
                given_effect=done,
            )
            for category, count, done in by_category
        ],
    )


def notices(*, session: Session, policy: Policy, period: Period) -> Notices:
    """Count the notices received in the period, by source and category, and what was done."""
    received = within(Report.received_at, period) & (Report.order_type == NOTICE)
    settled = Report.status.in_(SETTLED_STATUSES)
    # One scan: by category, source and status; the breakdowns are sums of these groups.
    counts: dict[str, dict[str, int]] = {source: {} for source in SOURCES}
    categories: dict[tuple[str, str], list[int]] = {}
    for category, source, status, count in session.execute(
        select(Report.category, Report.source, Report.status, func.count())
        .where(received)
        .group_by(Report.category, Report.source, Report.status)
    ):
        statuses = counts.setdefault(source, {})
        statuses[status] = statuses.get(status, 0) + count
        tally = categories.setdefault((category, source), [0, 0])
        tally[0] += count
        tally[1] += count if status == ReportStatus.ACTIONED else 0
    to_action = seconds_between(session, Report.decided_at, Report.received_at)
    by_source_median = medians(
        session, select(Report.source, to_action).where(received & settled), groups=1
    )
    overall = medians(session, select(to_action).where(received & settled)).get(())
    decided = (
        select(Decision.outcome, Decision.automated, func.count())
        .select_from(Report)
        .join(Decision, Decision.id == Report.decision_id)
        .where(received & settled)
        .group_by(Decision.outcome, Decision.automated)
    )
    outcomes: dict[str, int] = {}
    automated = 0
    for outcome, by_machine, count in session.execute(decided):
        outcomes[outcome] = outcomes.get(outcome, 0) + count
        automated += count if by_machine else 0
    return Notices(
        received=sum(sum(statuses.values()) for statuses in counts.values()),
        settled_by_automated_decision=automated,
        median_seconds_to_action=whole(overall),
        by_source=[
            NoticesBySource(
                source=source,
                received=sum(statuses.values()),
                actioned=statuses.get(ReportStatus.ACTIONED, 0),
                declined=statuses.get(ReportStatus.DECLINED, 0),
                objected=statuses.get(ReportStatus.OBJECTED, 0),
                pending=sum(statuses.get(status, 0) for status in OPEN_STATUSES),
                median_seconds_to_action=whole(by_source_median.get((source,))),
            )
            for source, statuses in counts.items()
        ],
        by_category=[
            NoticesByCategory(
                category=category,
                dsa_category=dsa_category(policy, category),
                source=source,
                received=count,
                actioned=done,
            )
            for (category, source), (count, done) in sorted(categories.items())
        ],
        actions=[CountByOutcome(outcome=o, count=n) for o, n in sorted(outcomes.items())],
    )
