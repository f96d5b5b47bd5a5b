"""Regulation (EU) 2021/784 (terrorist content online), Art. 7: the yearly report's figures,
over the categories the policy files as terrorist content."""

from __future__ import annotations

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from tanggap.actions.models import Action
from tanggap.appeals.models import Appeal, AppealState
from tanggap.cases.models import Decision
from tanggap.policy.schemas import Policy
from tanggap.reports.models import Report, ReportStatus
from tanggap.transparency.categories import terrorist_categories
from tanggap.transparency.moderation import first_instance
from tanggap.transparency.notices import ORDER
from tanggap.transparency.period import Period
from tanggap.transparency.schemas import TerroristContent
from tanggap.transparency.sql import count_if, seconds_between, within

RESTRICTING = ("remove", "geo_restrict", "ban_channel", "ban_member")
RESTORING = ("restore_post", "restore_channel")


def terrorist_content(*, session: Session, policy: Policy, period: Period) -> TerroristContent:
    """Count the removal orders, removals and complaints on terrorist content in the period."""
    terror = terrorist_categories(policy)
    clock = int(policy.removal_order_deadline.total_seconds())
    in_time = (Report.status == ReportStatus.ACTIONED) & (
        seconds_between(session, Report.decided_at, Report.received_at) <= clock
    )
    orders, acted = session.execute(
        select(func.count(), count_if(in_time))
        .where(within(Report.received_at, period))
        .where(Report.order_type == ORDER)
        .where(Report.category.in_(terror))
    ).one()
    removed = session.execute(
        select(func.count())
        .where(within(Decision.decided_at, period))
        .where(first_instance())
        .where(Decision.category.in_(terror))
        .where(Decision.outcome.in_(RESTRICTING))
    ).scalar_one()
    restored = exists(
        select(Action.id)
        .where(Action.decision_id == Appeal.decision_id)
        .where(Action.kind.in_(RESTORING))
    ).correlate(Appeal)
    complaints, upheld, reversed_, reinstated = session.execute(
        select(
            func.count(),
            count_if(Appeal.state == AppealState.UPHELD),
            count_if(Appeal.state == AppealState.REVERSED),
            count_if((Appeal.state == AppealState.REVERSED) & restored),
        )
        .select_from(Appeal)
        .join(Decision, Decision.id == Appeal.appealed_decision_id)
        .where(within(Appeal.filed_at, period))
        .where(Decision.category.in_(terror))
    ).one()
    return TerroristContent(
        removal_orders_received=orders,
        removal_orders_acted_within_deadline=acted,
        deadline_seconds=clock,
        items_removed_or_disabled=removed,
        complaints=complaints,
        complaints_upheld=upheld,
        complaints_reversed=reversed_,
        items_restored_after_complaint=reinstated,
    )
