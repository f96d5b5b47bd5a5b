"""The thread on each report: messages both ways, read state, objections."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.auth.schemas import Caller
from tanggap.cases import service as cases
from tanggap.cases.models import Case
from tanggap.db.base import utcnow
from tanggap.errors import Conflict, Forbidden, InvalidInput
from tanggap.notify.service import Notifier
from tanggap.reports import service as reports
from tanggap.reports.models import Report
from tanggap.reports.schemas import OPEN_STATUSES
from tanggap.threads.models import ReportMessage


def side_of(caller: Caller) -> str:
    """Return which side of the thread ``caller`` writes for."""
    if caller.role == "flagger":
        return "flagger"
    if caller.is_staff:
        return "platform"
    raise Forbidden(f"a {caller.role} has no part in report threads")


def messages(*, session: Session, caller: Caller, report_id: uuid.UUID) -> list[ReportMessage]:
    """Return the thread, oldest first, and mark the other side's messages read by the caller."""
    side = side_of(caller)
    report = reports.get_visible(session=session, caller=caller, report_id=report_id)
    column = "read_by_flagger_at" if side == "flagger" else "read_by_platform_at"
    unread = session.execute(
        update(ReportMessage)
        .where(ReportMessage.report_id == report.id)
        .where(ReportMessage.author_role != side)
        .where(getattr(ReportMessage, column).is_(None))
        .values({column: utcnow()})
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if unread:
        audit.record(
            session=session,
            actor=caller.audit_actor,
            action="thread.read",
            subject_type="report",
            subject_id=report.id,
            data={"side": side, "messages": unread},
        )
    return list(
        session.execute(
            select(ReportMessage)
            .where(ReportMessage.report_id == report.id)
            .order_by(ReportMessage.created_at, ReportMessage.id)
            .execution_options(populate_existing=True)
        ).scalars()
    )


def post_message(
    *,
    session: Session,
    caller: Caller,
    report_id: uuid.UUID,
    body: str,
    notifier: Notifier,
) -> ReportMessage:
    """Add a message to the thread; a flagger's answer to an objection puts the report back."""
    side = side_of(caller)
    report = reports.get_visible(session=session, caller=caller, report_id=report_id)
    if report.source != "flagger":
        raise Conflict("only trusted flaggers' reports have a thread", field="report_id")
    message = _add(session, caller, report, side, "message", body)
    if side == "flagger" and report.status == "objected":
        _reopen_after_reply(session, caller, report, notifier)
    else:
        notifier.report_changed(
            session=session, report=report, event="report.message", message=message
        )
    return message


def object_to(
    *,
    session: Session,
    caller: Caller,
    case_id: uuid.UUID,
    report_id: uuid.UUID,
    reason: str,
    notifier: Notifier,
) -> ReportMessage:
    """Record the platform's reasoned objection to a flagger's report instead of acting on it."""
    case = cases.lock(session=session, case_id=case_id)
    cases.require_claim(case=case, caller=caller)
    report = session.get(Report, report_id)
    if report is None or report.case_id != case.id:
        raise InvalidInput(f"case {case_id} has no report {report_id}", field="report_id")
    if report.source != "flagger":
        raise InvalidInput("only a trusted flagger's report can be objected to", field="report_id")
    if report.status not in OPEN_STATUSES:
        raise Conflict(f"report {report_id} is {report.status}", field="report_id")
    message = _add(session, caller, report, "platform", "objection", reason)
    reports.set_status(
        session=session,
        report=report,
        status="objected",
        actor=caller.audit_actor,
        notifier=notifier,
    )
    if not reports.reports_of_case(session=session, case_id=case.id, statuses=OPEN_STATUSES):
        # Nothing left to decide until the flagger answers: out of the queues.
        cases.set_state(session=session, case=case, state="objected", actor=caller.audit_actor)
    return message


def _reopen_after_reply(
    session: Session, caller: Caller, report: Report, notifier: Notifier
) -> None:
    reports.set_status(
        session=session,
        report=report,
        status="in_review",
        actor=caller.audit_actor,
        notifier=notifier,
    )
    case = cases.lock(session=session, case_id=report.case_id)
    if case.state == "objected":
        # The clock kept running: the case returns with its deadline unchanged.
        cases.set_state(session=session, case=case, state="open", actor=caller.audit_actor)
    elif case.state == "decided":
        _answer_with_decision(session, caller, case, report, notifier)


def _answer_with_decision(
    session: Session, caller: Caller, case: Case, report: Report, notifier: Notifier
) -> None:
    # The case was decided while this report waited on the flagger: a takedown already in
    # force settles it; a finding of no violation (or a partial restriction) is reviewed again.
    decision = reports.latest_decision(session=session, case_id=case.id)
    if decision is None or decision.outcome in cases.REVIEW_AGAIN_AFTER:
        cases.set_state(session=session, case=case, state="open", actor=caller.audit_actor)
        return
    if reports.takedown_delivered(session=session, decision_id=decision.id):
        reports.set_status(
            session=session,
            report=report,
            status="actioned",
            actor=caller.audit_actor,
            notifier=notifier,
            decision_id=decision.id,
        )


def _add(
    session: Session, caller: Caller, report: Report, side: str, kind: str, body: str
) -> ReportMessage:
    now = utcnow()
    message = ReportMessage(
        report_id=report.id,
        author_role=side,
        author_id=caller.id,
        kind=kind,
        body=body,
        created_at=now,
        read_by_flagger_at=now if side == "flagger" else None,
        read_by_platform_at=now if side == "platform" else None,
    )
    session.add(message)
    session.flush()
    audit.record(
        session=session,
        actor=caller.audit_actor,
        action=f"thread.{kind}",
        subject_type="report",
        subject_id=report.id,
        data={"message_id": str(message.id), "side": side, "length": len(body)},
    )
    return message
