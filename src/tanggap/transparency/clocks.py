"""Time to action against the legal clocks of the policy: the removal order's, and each deadline
class's for each source."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tanggap.cases.models import Case, Decision
from tanggap.policy.schemas import Policy, Source
from tanggap.policy.service import find_category
from tanggap.reports.models import Report
from tanggap.reports.schemas import SETTLED_STATUSES
from tanggap.transparency.moderation import first_instance
from tanggap.transparency.notices import NOTICE, ORDER
from tanggap.transparency.period import Period
from tanggap.transparency.schemas import Clock
from tanggap.transparency.sql import count_if, share, within

CLASS_SOURCES: tuple[Source, ...] = ("flagger", "user", "automated")


def clocks(*, session: Session, policy: Policy, period: Period) -> list[Clock]:
    """Count, per clock, the reports received (cases opened) in the period that were decided,
    and how many of them by their deadline."""
    kept: dict[tuple[str, str], list[int]] = {}

    def add(clock: str, source: str, decided: int, in_time: int) -> None:
        tally = kept.setdefault((clock, source), [0, 0])
        tally[0] += decided
        tally[1] += in_time

    received = within(Report.received_at, period) & Report.status.in_(SETTLED_STATUSES)
    for category, source, order_type, decided, in_time in session.execute(
        select(
            Report.category,
            Report.source,
            Report.order_type,
            func.count(),
            count_if(Report.decided_at <= Report.deadline),
        )
        .where(received)
        .group_by(Report.category, Report.source, Report.order_type)
    ):
        if order_type == ORDER:
            add(ORDER, "flagger", decided, in_time)
        elif order_type == NOTICE:
            add(_class_of(policy, category), source, decided, in_time)
    first_decided = (
        select(Decision.case_id, func.min(Decision.decided_at).label("decided_at"))
        .where(first_instance())
        .group_by(Decision.case_id)
        .subquery()
    )
    for category, decided, in_time in session.execute(
        select(Case.category, func.count(), count_if(first_decided.c.decided_at <= Case.deadline))
        .join(first_decided, first_decided.c.case_id == Case.id)
        .where(within(Case.opened_at, period) & Case.automated.is_(True))
        .group_by(Case.category)
    ):
        add(_class_of(policy, category), "automated", decided, in_time)

    rows = [(ORDER, "flagger", int(policy.removal_order_deadline.total_seconds()))]
    for name, deadlines in policy.deadline_classes.items():
        rows += [
            (name, source, int(getattr(deadlines, source).total_seconds()))
            for source in CLASS_SOURCES
        ]
    result = []
    for clock, source, seconds in rows:
        decided, in_time = kept.get((clock, source), (0, 0))
        result.append(
            Clock(
                clock=clock,
                source=source,
                deadline_seconds=seconds,
                decided=decided,
                within_deadline=in_time,
                within_deadline_share=share(in_time, decided),
            )
        )
    return result


def _class_of(policy: Policy, category_id: str) -> str:
    category = find_category(policy, category_id)
    return category.deadline_class if category is not None else "unknown"
