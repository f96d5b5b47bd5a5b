"""The thread on each report between a flagger organisation and the platform: messages both
ways, read state, the platform's objection and the flagger's answer to it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, true, update
from sqlalchemy.orm import Session

from tanggap.actions import service as actions
from tanggap.audit import service as audit
from tanggap.auth.schemas import Caller
from tanggap.cases import claims, decisions
from tanggap.cases import service as cases
from tanggap.cases.models import Case
from tanggap.cases.states import CaseState
from tanggap.db.base import rowcount, utcnow
from tanggap.errors import Conflict, Forbidden, InvalidInput, NotFound
from tanggap.notify.port import Notifier, ThreadNote
from tanggap.policy.schemas import Policy
from tanggap.reports import service as reports
from tanggap.reports.models import MessageKind, Report, ReportMessage, ReportStatus, ThreadSide
from tanggap.reports.schemas import OPEN_STATUSES
from tanggap.reviewers import service as reviewers


def side_of(caller: Caller) -> ThreadSide:
    """Return which side of the thread ``caller`` writes for."""
    if caller.role == "flagger":
        return "flagger"
    if caller.is_staff:
        return "platform"
    raise Forbidden(f"a {caller.role} has no part in report threads")


def thread(
    *, session: Session, caller: Caller, report_id: uuid.UUID, policy: Policy
) -> list[ReportMessage]:
    """Return the thread of a report the caller may see, oldest first (reading changes
    nothing: see ``mark_read``)."""
    side_of(caller)
    report = reports.get_visible(session=session, caller=caller, report_id=report_id, policy=policy)
    return list(
        session.execute(
            select(ReportMessage)
            .where(ReportMessage.report_id == report.id)
            .order_by(ReportMessage.created_at, ReportMessage.id)
            .execution_options(populate_existing=True)
        ).scalars()
    )


def mark_read(
    *,
    session: Session,
    caller: Caller,
    report_id: uuid.UUID,
    policy: Policy,
    upto: datetime | None = None,
) -> int:
    """Mark the other side's messages read by the caller's side (only those written by ``upto``,
    when given: what a page showed), audited; return how many."""
    side = side_of(caller)
    report = reports.get_visible(session=session, caller=caller, report_id=report_id, policy=policy)
    column = "read_by_flagger_at" if side == "flagger" else "read_by_platform_at"
    unread = rowcount(
        session.execute(
            update(ReportMessage)
            .where(ReportMessage.report_id == report.id)
            .where(ReportMessage.author_role != side)
            .where(getattr(ReportMessage, column).is_(None))
            .where(ReportMessage.created_at <= upto if upto is not None else true())
            .values({column: utcnow()})
            .execution_options(synchronize_session=False)
        )
    )
    if unread:
        audit.record(
            session=session,
            actor=caller.audit_actor,
            action="thread.read",
            subject_type="report",
            subject_id=report.id,
            data={"side": side, "messages": unread},
        )
    return unread


def post_message(
    *,
    session: Session,
    caller: Caller,
    report_id: uuid.UUID,
    body: str,
    notifier: Notifier,
    policy: Policy,
    case_id: uuid.UUID | None = None,
) -> ReportMessage:
    """Add a message to the thread (of a report of ``case_id``, when given); a flagger's answer
    to an objection puts the report back."""
    side = side_of(caller)
    report = reports.get_visible(session=session, caller=caller, report_id=report_id, policy=policy)
    if case_id is not None and report.case_id != case_id:
        raise NotFound(f"case {case_id} has no report {report_id}", field="report_id")
    if report.source != "flagger":
        raise Conflict("only trusted flaggers' reports have a thread", field="report_id")
    message = _add(session, caller, report, side, "message", body)
    if side == "flagger" and report.status == ReportStatus.OBJECTED:
        _reopen_after_reply(session, caller, report, notifier)
    else:
        reports.notify(notifier, session, report, "report.message", note_of(message))
    return message


def object_to(
    *,
    session: Session,
    caller: Caller,
    case_id: uuid.UUID,
    report_id: uuid.UUID,
    reason: str,
    notifier: Notifier,
    policy: Policy,
) -> ReportMessage:
    """Record the platform's reasoned objection to a flagger's report instead of acting on it
    (on a case the caller may see: any other is not found)."""
    skills = reviewers.skills_of(session=session, principal_id=caller.id)
    cases.get(session=session, case_id=case_id, skills=skills, policy=policy)
    case = cases.lock(session=session, case_id=case_id)
    claims.require_claim(case=case, caller=caller)
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
        status=ReportStatus.OBJECTED,
        actor=caller.audit_actor,
        notifier=notifier,
    )
    if not reports.reports_of_case(session=session, case_id=case.id, statuses=OPEN_STATUSES):
        # Nothing left to decide until the flagger answers: out of the queues.
        cases.move(session=session, case=case, state=CaseState.OBJECTED, actor=caller.audit_actor)
    return message


def _reopen_after_reply(
    session: Session, caller: Caller, report: Report, notifier: Notifier
) -> None:
    reports.set_status(
        session=session,
        report=report,
        status=ReportStatus.IN_REVIEW,
        actor=caller.audit_actor,
        notifier=notifier,
    )
    case = cases.lock(session=session, case_id=report.case_id)
    if case.state == CaseState.OBJECTED:
        # The clock kept running: the case returns with its deadline unchanged.
        cases.move(session=session, case=case, state=CaseState.OPEN, actor=caller.audit_actor)
    elif case.state == CaseState.DECIDED:
        _answer_with_decision(session, caller, case, report, notifier)


def _answer_with_decision(
    session: Session, caller: Caller, case: Case, report: Report, notifier: Notifier
) -> None:
    # The case was decided while this report waited on the flagger: a takedown already in
    # force settles it; a finding of no violation (or a partial restriction) is reviewed again.
    decision = decisions.in_force(session=session, case_id=case.id)
    if decision is None or decision.outcome in cases.REVIEW_AGAIN_AFTER:
        cases.move(session=session, case=case, state=CaseState.OPEN, actor=caller.audit_actor)
        return
    if actions.all_delivered(session=session, decision_id=decision.id):
        reports.set_status(
            session=session,
            report=report,
            status=ReportStatus.ACTIONED,
            actor=caller.audit_actor,
            notifier=notifier,
            decision_id=decision.id,
        )


def note_of(message: ReportMessage) -> ThreadNote:
    """A thread message as plain data, for the notifier."""
    return ThreadNote(
        message_id=message.id,
        author_role=message.author_role,
        kind=message.kind,
        body=message.body,
        created_at=message.created_at,
    )


def _add(
    session: Session,
    caller: Caller,
    report: Report,
    side: ThreadSide,
    kind: MessageKind,
    body: str,
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
