"""HTTP: the thread on a report, and the platform's objection."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from tanggap.auth.schemas import Caller
from tanggap.errors import Conflict
from tanggap.http.deps import RuntimeDep, SessionDep, Staff, require
from tanggap.http.openapi import answers
from tanggap.reports import threads
from tanggap.reports.models import ReportMessage
from tanggap.reports.schemas import MessageIn, MessageOut, ObjectionIn, Thread

router = APIRouter(tags=["threads"])
Participant = Annotated[Caller, Depends(require("flagger", "reviewer", "lead", "admin"))]


def message_out(message: ReportMessage) -> MessageOut:
    """Shape a message: its author's role, never the person."""
    return MessageOut(
        message_id=message.id,
        author_role=message.author_role,
        kind=message.kind,
        body=message.body,
        created_at=message.created_at,
        read_by_flagger_at=message.read_by_flagger_at,
        read_by_platform_at=message.read_by_platform_at,
    )


@router.get("/v1/reports/{report_id}/messages", response_model=Thread, responses=answers(Conflict))
def read_thread(
    report_id: uuid.UUID, session: SessionDep, caller: Participant, runtime: RuntimeDep
) -> Thread:
    """Read a report's thread, oldest first; the other side's messages become read.

    The one GET that writes, and on purpose: it is the API's read receipt, documented since the
    first release (docs/flaggers.md), which flaggers' systems rely on. Marking read is
    idempotent, and it changes no report, case or decision."""
    policy = runtime.policy
    threads.mark_read(session=session, caller=caller, report_id=report_id, policy=policy)
    session.commit()
    found = threads.thread(session=session, caller=caller, report_id=report_id, policy=policy)
    return Thread(report_id=report_id, messages=[message_out(m) for m in found])


@router.post(
    "/v1/reports/{report_id}/messages",
    response_model=MessageOut,
    status_code=201,
    responses=answers(Conflict),
)
def write_message(
    report_id: uuid.UUID,
    data: MessageIn,
    session: SessionDep,
    caller: Participant,
    runtime: RuntimeDep,
) -> MessageOut:
    """Write on a report's thread; the other side is notified."""
    message = threads.post_message(
        session=session,
        caller=caller,
        report_id=report_id,
        body=data.body,
        notifier=runtime.notifier,
        policy=runtime.policy,
    )
    session.commit()
    return message_out(message)


@router.post(
    "/v1/cases/{case_id}/objection",
    response_model=MessageOut,
    status_code=201,
    responses=answers(Conflict),
)
def object_to_report(
    case_id: uuid.UUID,
    data: ObjectionIn,
    session: SessionDep,
    caller: Staff,
    runtime: RuntimeDep,
) -> MessageOut:
    """Object (sanggah) to a flagger's report on a case you hold, with your reasons."""
    message = threads.object_to(
        session=session,
        caller=caller,
        case_id=case_id,
        report_id=data.report_id,
        reason=data.reason,
        notifier=runtime.notifier,
        policy=runtime.policy,
    )
    session.commit()
    return message_out(message)
