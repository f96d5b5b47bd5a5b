"""Reports after intake: who may see them, their lists and statuses, and what their reporters hear
(intake itself is ``reports.intake``)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import NoReturn

from sqlalchemy import ColumnElement, and_, false, func, select, true
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.auth.schemas import Caller
from tanggap.cases.models import Case
from tanggap.cases.routing import uncleared
from tanggap.db.base import utcnow
from tanggap.errors import InvalidInput, NotFound
from tanggap.notify.port import Notifier, ReportChange, ThreadNote
from tanggap.policy.schemas import Policy
from tanggap.reports.models import Report, ReportStatus
from tanggap.reports.schemas import OPEN_STATUSES, REPORT_STATUSES, SETTLED_STATUSES
from tanggap.reviewers import service as reviewers
from tanggap.validation import bounded_time


def settle_actioned(
    *,
    session: Session,
    case_id: uuid.UUID,
    decision_id: uuid.UUID,
    actor: str,
    notifier: Notifier,
) -> list[Report]:
    """Mark the case's reports actioned once its takedown reached the platform."""
    settled = reports_of_case(session=session, case_id=case_id, statuses=OPEN_STATUSES)
    for report in settled:
        set_status(
            session=session,
            report=report,
            status=ReportStatus.ACTIONED,
            actor=actor,
            notifier=notifier,
            decision_id=decision_id,
        )
    return settled


def hidden_categories(*, session: Session, caller: Caller, policy: Policy) -> list[str]:
    """Return the restricted categories a staff caller is not cleared for (none for others)."""
    if not caller.is_staff:
        return []
    skills = reviewers.skills_of(session=session, principal_id=caller.id)
    return uncleared(skills, policy)


def get_visible(
    *, session: Session, caller: Caller, report_id: uuid.UUID, policy: Policy
) -> Report:
    """Return a report the caller may see; anyone else gets NotFound, not a hint it exists."""
    hidden = hidden_categories(session=session, caller=caller, policy=policy)
    report = session.execute(
        select(Report).where(Report.id == report_id).where(visible_to(caller, hidden))
    ).scalar_one_or_none()
    if report is None:
        raise NotFound(f"no report {report_id}", field="report_id")
    return report


def post_hidden(*, session: Session, post_id: int, hidden: Collection[str]) -> bool:
    """Tell whether a post's case or one of its reports is in a category in ``hidden``."""
    if not hidden:
        return False
    in_case = select(Case.id).where(Case.post_id == post_id).where(Case.category.in_(hidden))
    in_report = (
        select(Report.id).where(Report.post_id == post_id).where(Report.category.in_(hidden))
    )
    return session.execute(in_case.union_all(in_report).limit(1)).first() is not None


def invalid_status(value: str) -> NoReturn:
    """Refuse an unknown report status in a filter."""
    known = ", ".join(REPORT_STATUSES)
    raise InvalidInput(f"unknown status {value!r}; known: {known}", field="status")


def visible_to(caller: Caller, hidden: Collection[str] = ()) -> ColumnElement[bool]:
    """Return the condition selecting the reports ``caller`` may see: staff every report but
    those whose own or whose case's category is in ``hidden``, a flagger its organisation's, a
    platform principal the user reports it submitted."""
    if caller.is_staff:
        if not hidden:
            return true()
        hidden_cases = select(Case.id).where(Case.category.in_(hidden))
        return and_(Report.category.not_in(hidden), Report.case_id.not_in(hidden_cases))
    if caller.role == "flagger" and caller.org_id is not None:
        return Report.flagger_org_id == caller.org_id
    if caller.role == "platform":
        return and_(Report.source == "user", Report.submitted_by_id == caller.id)
    return false()


def list_visible(
    *,
    session: Session,
    caller: Caller,
    policy: Policy,
    statuses: list[str] | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[Report], int]:
    """Return a page of the reports the caller may see, newest first, and their total."""
    hidden = hidden_categories(session=session, caller=caller, policy=policy)
    query = select(Report).where(visible_to(caller, hidden))
    if statuses:
        query = query.where(Report.status.in_(statuses))
    if since is not None:
        query = query.where(Report.received_at >= bounded_time(since, "since"))
    if until is not None:
        query = query.where(Report.received_at < bounded_time(until, "until"))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.order_by(Report.received_at.desc(), Report.id).limit(limit).offset(offset)
    ).scalars()
    return list(rows), total


def reports_of_case(
    *, session: Session, case_id: uuid.UUID, statuses: tuple[ReportStatus, ...]
) -> list[Report]:
    """Return the case's reports whose status is one of ``statuses``."""
    return list(
        session.execute(
            select(Report)
            .where(Report.case_id == case_id)
            .where(Report.status.in_(statuses))
            .order_by(Report.received_at)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalars()
    )


def set_status(
    *,
    session: Session,
    report: Report,
    status: ReportStatus,
    actor: str,
    notifier: Notifier,
    decision_id: uuid.UUID | None = None,
) -> None:
    """Move a report to ``status`` (settled by ``decision_id`` when final), audited and notified."""
    set_statuses(
        session=session,
        reports=[report],
        status=status,
        actor=actor,
        notifier=notifier,
        decision_id=decision_id,
    )


def set_statuses(
    *,
    session: Session,
    reports: Sequence[Report],
    status: ReportStatus,
    actor: str,
    notifier: Notifier,
    decision_id: uuid.UUID | None = None,
) -> None:
    """Move ``reports`` to ``status`` together: an audit event each, one notification call."""
    if status in SETTLED_STATUSES and decision_id is None:
        raise ValueError("a settled report needs the decision that settled it")
    changes = []
    for report in reports:
        previous = report.status
        report.status = status
        if status in SETTLED_STATUSES:
            report.decided_at = utcnow()
            report.decision_id = decision_id
        audit.record(
            session=session,
            actor=actor,
            action="report.status_changed",
            subject_type="report",
            subject_id=report.id,
            data={
                "from": previous,
                "to": status,
                "decision_id": str(decision_id) if decision_id else None,
            },
        )
        changes.append(_change(report, f"report.{status}"))
    session.flush()
    if changes:
        notifier.reports_changed(session=session, changes=changes)


def notify(
    notifier: Notifier,
    session: Session,
    report: Report,
    event: str,
    message: ThreadNote | None = None,
) -> None:
    """Tell the notifier of a change to ``report``, as plain data."""
    notifier.report_changed(session=session, change=_change(report, event, message))


def _change(report: Report, event: str, message: ThreadNote | None = None) -> ReportChange:
    return ReportChange(
        report_id=report.id,
        org_id=report.flagger_org_id,
        event=event,
        message=message,
        submitted_by=report.submitted_by_id,
    )
