"""The console's overview (what waits where, what is late, how deadlines were kept), the next
case, and pausing."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tanggap.cases import overview
from tanggap.console.pages import lease, page
from tanggap.console.session import ConsoleLogin
from tanggap.db.base import utcnow
from tanggap.errors import TanggapError
from tanggap.http.deps import RuntimeDep, SessionDep
from tanggap.reports.compliance import compliance
from tanggap.review import assignment
from tanggap.reviewers import service as reviewers
from tanggap.web.accounts import check_csrf

router = APIRouter(prefix="/console", include_in_schema=False)
COMPLIANCE_DAYS = 30


@router.get("/queues", response_class=HTMLResponse)
def queues(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    login: ConsoleLogin,
    empty: bool = False,
) -> HTMLResponse:
    """What waits where, what is late, how deadlines were kept."""
    skills = reviewers.skills_of(session=session, principal_id=login.caller.id)
    now = utcnow()
    today = datetime.combine(now.date(), time(), UTC)
    per_queue, per_source = compliance(
        session=session,
        skills=skills,
        policy=runtime.policy,
        since=now - timedelta(days=COMPLIANCE_DAYS),
    )
    today_queue, _ = compliance(session=session, skills=skills, policy=runtime.policy, since=today)
    return page(
        request,
        "queues.html",
        login,
        skills=skills,
        queues=overview.queues(session=session, skills=skills, policy=runtime.policy, now=now),
        escalated=overview.escalated(session=session, skills=skills, policy=runtime.policy),
        approvals=overview.awaiting_approval(session=session, skills=skills, policy=runtime.policy),
        per_queue=per_queue,
        per_source=per_source,
        today={c.group: c for c in today_queue},
        compliance_days=COMPLIANCE_DAYS,
        empty=empty,
        now=now,
    )


@router.post("/next")
def take_next_case(
    session: SessionDep,
    runtime: RuntimeDep,
    login: ConsoleLogin,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Take the most urgent case you may decide and open it."""
    check_csrf(login, csrf_token)
    try:
        case = assignment.assign_next(
            session=session,
            caller=login.caller,
            lease=lease(runtime),
            policy=runtime.policy,
            notifier=runtime.notifier,
        )
    except TanggapError:
        return RedirectResponse("/console/queues", status_code=303)
    session.commit()
    if case is None:
        return RedirectResponse("/console/queues?empty=1", status_code=303)
    return RedirectResponse(f"/console/cases/{case.id}", status_code=303)


@router.post("/pause")
def pause(
    session: SessionDep,
    login: ConsoleLogin,
    paused: Annotated[bool, Form()] = True,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Pause (no cases handed to you) or resume."""
    check_csrf(login, csrf_token)
    reviewers.set_paused(
        session=session, principal_id=login.caller.id, paused=paused, actor=login.caller.audit_actor
    )
    session.commit()
    return RedirectResponse("/console/queues", status_code=303)
