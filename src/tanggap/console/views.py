"""The review console: queue overview, next case, the case page, decisions and approvals."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tanggap.api.deps import RuntimeDep, SessionDep
from tanggap.auth import web
from tanggap.auth.schemas import LEAD_ROLES
from tanggap.banks import service as banks
from tanggap.cases import detail, flows, overview
from tanggap.cases import service as cases
from tanggap.cases.models import Case
from tanggap.cases.router import deliver_actions, deliver_now
from tanggap.cases.schemas import ApprovalIn, DecisionIn, EscalationIn
from tanggap.console.session import ConsoleLogin
from tanggap.db.base import utcnow
from tanggap.errors import InvalidInput, TanggapError
from tanggap.reviewers import service as reviewers
from tanggap.runtime import Runtime
from tanggap.threads import service as threads
from tanggap.threads.schemas import MessageIn
from tanggap.validation import validation_details
from tanggap.web import i18n
from tanggap.web.accounts import NotFoundPage, check_csrf, render

router = APIRouter(prefix="/console", include_in_schema=False)
COMPLIANCE_DAYS = 30


def page(
    request: Request, name: str, login: web.WebLogin, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render a console page in the reviewer's language."""
    return render(request, f"console/{name}", login, status_code, **context)


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
    per_queue, per_source = overview.compliance(
        session=session,
        skills=skills,
        policy=runtime.policy,
        since=now - timedelta(days=COMPLIANCE_DAYS),
    )
    today_queue, _ = overview.compliance(
        session=session, skills=skills, policy=runtime.policy, since=today
    )
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
def next_case(
    session: SessionDep,
    runtime: RuntimeDep,
    login: ConsoleLogin,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Take the most urgent case you may decide and open it."""
    check_csrf(login, csrf_token)
    try:
        case = flows.next_case(
            session=session,
            caller=login.caller,
            lease=_lease(runtime),
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


def _lease(runtime: Runtime) -> timedelta:
    return timedelta(seconds=runtime.settings.claim_lease_seconds)


def _case(session: Any, runtime: Runtime, login: web.WebLogin, case_id: str) -> Any:
    try:
        skills = reviewers.skills_of(session=session, principal_id=login.caller.id)
        return cases.get(
            session=session, case_id=uuid.UUID(case_id), skills=skills, policy=runtime.policy
        )
    except (ValueError, TanggapError) as exc:
        raise NotFoundPage(
            i18n.gettext("Case not found"),
            i18n.gettext("There is no such case among those you may see."),
        ) from exc


def _case_page(
    request: Request,
    session: Any,
    runtime: Runtime,
    login: web.WebLogin,
    case: Any,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    language = i18n.use(getattr(request.state, "language", None))
    shown = detail.load(
        session=session, case=case, caller=login.caller, policy=runtime.policy, now=utcnow()
    )
    session.commit()  # reading the threads marked them read
    category_name = shown.category.display_name(language)
    templates = {
        outcome: texts.get(language, texts.get("en", "")).replace("{category}", category_name)
        for outcome, texts in runtime.policy.explanations.items()
    }
    return page(
        request,
        "case.html",
        login,
        status_code,
        d=shown,
        mine=shown.case.claimed_by_id == login.caller.id,
        templates=templates,
        banks=[
            bank
            for bank in banks.all_banks(session=session)
            if bank.policy == "review" or login.caller.role in LEAD_ROLES
        ],
        lease_seconds=runtime.settings.claim_lease_seconds,
        **context,
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request, case_id: str, session: SessionDep, runtime: RuntimeDep, login: ConsoleLogin
) -> HTMLResponse:
    """One case: the post, its context, the reports and threads, why it is here, the decision."""
    case = _case(session, runtime, login, case_id)
    return _case_page(request, session, runtime, login, case)


@dataclass
class CaseForm:
    """A form posted from a case page: CSRF checked, the case found among those one may see."""

    request: Request
    session: Session
    runtime: Runtime
    login: web.WebLogin
    case: Case

    def page(self, status_code: int, **context: Any) -> HTMLResponse:
        """The case page again, with what went wrong."""
        self.session.rollback()
        return _case_page(
            self.request, self.session, self.runtime, self.login, self.case, status_code, **context
        )

    def back(self, suffix: str = "") -> RedirectResponse:
        """Back to the case page."""
        return RedirectResponse(f"/console/cases/{self.case.id}{suffix}", status_code=303)


def case_form(
    request: Request,
    case_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    login: ConsoleLogin,
    csrf_token: Annotated[str, Form()] = "",
) -> CaseForm:
    """Check the form's CSRF token and find its case."""
    check_csrf(login, csrf_token)
    return CaseForm(request, session, runtime, login, _case(session, runtime, login, case_id))


FormOnCase = Annotated[CaseForm, Depends(case_form)]


def _error(exc: TanggapError) -> dict[str, str]:
    return {"field": exc.field or "", "message": exc.message}


@router.post("/cases/{case_id}/claim")
def claim(form: FormOnCase) -> Response:
    """Take this case (or renew your lease on it)."""
    try:
        flows.claim_case(
            session=form.session,
            caller=form.login.caller,
            case_id=form.case.id,
            lease=_lease(form.runtime),
            policy=form.runtime.policy,
            notifier=form.runtime.notifier,
        )
        form.session.commit()
    except TanggapError:
        form.session.rollback()
    return form.back()


@router.post("/cases/{case_id}/renew", response_class=HTMLResponse)
def renew(form: FormOnCase) -> HTMLResponse:
    """Renew the lease while the page stays open (htmx polls this)."""
    case, held = form.case, False
    if case.claimed_by_id == form.login.caller.id:
        try:
            case = flows.claim_case(
                session=form.session,
                caller=form.login.caller,
                case_id=case.id,
                lease=_lease(form.runtime),
                policy=form.runtime.policy,
                notifier=form.runtime.notifier,
            )
            form.session.commit()
            held = True
        except TanggapError:
            form.session.rollback()
    return page(form.request, "_lease.html", form.login, case=case, held=held)


@router.post("/cases/{case_id}/release")
def release(form: FormOnCase) -> Response:
    """Give the case back to its queue."""
    try:
        cases.release(session=form.session, caller=form.login.caller, case_id=form.case.id)
        form.session.commit()
    except TanggapError:
        form.session.rollback()
    return RedirectResponse("/console/queues", status_code=303)


@router.post("/cases/{case_id}/media/{position}/reveal", response_class=HTMLResponse)
def reveal(position: int, form: FormOnCase) -> HTMLResponse:
    """Show one blurred media item as it is; the reveal is audited."""
    post, _ = cases.post_of(session=form.session, case=form.case)
    media = next((m for m in post.media if m.position == position), None)
    if media is None:
        raise NotFoundPage(i18n.gettext("Case not found"), i18n.gettext("No such media item."))
    detail.record_reveal(
        session=form.session, caller=form.login.caller, case=form.case, position=position
    )
    form.session.commit()
    return page(form.request, "_media.html", form.login, media=media, revealed=True)


@router.post("/cases/{case_id}/decide", response_class=HTMLResponse)
def decide(
    form: FormOnCase,
    outcome: Annotated[str, Form(max_length=20)] = "",
    countries: Annotated[str, Form(max_length=1000)] = "",
    ground: Annotated[str, Form(max_length=10)] = "",
    policy_ref: Annotated[str, Form(max_length=200)] = "",
    explanation: Annotated[str, Form(max_length=5000)] = "",
    add_to_bank: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Decide the case you hold; a wrong field shows the page again with the reason."""
    listed = [c.strip() for c in countries.replace(";", ",").split(",") if c.strip()]
    raw: dict[str, Any] = {
        "outcome": outcome,
        "countries": listed or None,
        "ground": ground or None,
        "policy_ref": policy_ref or None,
        "explanation": explanation,
        "add_to_bank": add_to_bank or None,
    }
    if outcome in ("no_violation", "uphold", "reverse"):
        raw["ground"] = raw["policy_ref"] = None
    try:
        result = flows.decide_case(
            session=form.session,
            caller=form.login.caller,
            case_id=form.case.id,
            data=DecisionIn.model_validate(raw),
            policy=form.runtime.policy,
            notifier=form.runtime.notifier,
        )
        form.session.commit()
    except ValidationError as exc:
        problem = validation_details(list(exc.errors()))[0]  # type: ignore[arg-type]
        return form.page(422, error=problem, form=raw)
    except TanggapError as exc:
        return form.page(409 if exc.status_code == 409 else 422, error=_error(exc), form=raw)
    deliver_now(form.runtime, result)
    return form.back("?decided=1")


@router.post("/cases/{case_id}/approval")
def approve(
    form: FormOnCase,
    approve: Annotated[bool, Form()] = False,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Approve or reject a decision that needs four eyes."""
    try:
        result = flows.approve_decision(
            session=form.session,
            caller=form.login.caller,
            case_id=form.case.id,
            data=ApprovalIn(approve=approve, note=note or None),
            policy=form.runtime.policy,
            notifier=form.runtime.notifier,
        )
        form.session.commit()
    except TanggapError as exc:
        return form.page(exc.status_code, error=_error(exc))
    deliver_now(form.runtime, result)
    return form.back()


@router.post("/cases/{case_id}/escalate")
def escalate(form: FormOnCase, reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Hand the case to the leads with a reason."""
    try:
        flows.escalate_case(
            session=form.session,
            caller=form.login.caller,
            case_id=form.case.id,
            data=EscalationIn(reason=reason),
            notifier=form.runtime.notifier,
        )
        form.session.commit()
    except (ValidationError, TanggapError) as exc:
        message = exc.message if isinstance(exc, TanggapError) else i18n.gettext("Say why.")
        return form.page(422, error={"field": "reason", "message": message})
    return RedirectResponse("/console/queues", status_code=303)


@router.post("/cases/{case_id}/reports/{report_id}/messages")
def reply(
    report_id: str, form: FormOnCase, body: Annotated[str, Form(max_length=6000)] = ""
) -> Response:
    """Write to the flagger on one report's thread."""
    try:
        threads.post_message(
            session=form.session,
            caller=form.login.caller,
            report_id=uuid.UUID(report_id),
            body=MessageIn(body=body).body,
            notifier=form.runtime.notifier,
        )
        form.session.commit()
    except (ValueError, ValidationError, TanggapError):
        form.session.rollback()
    return form.back(f"#report-{report_id}")


@router.post("/cases/{case_id}/cascade")
def cascade_apply(
    form: FormOnCase, link_ids: Annotated[list[str] | None, Form()] = None
) -> Response:
    """Let this case's removal cover the selected near-duplicates."""
    try:
        chosen = [uuid.UUID(value) for value in link_ids or []]
        if not chosen:
            raise InvalidInput("choose at least one post", field="link_ids")
        _, queued = flows.apply_to_near_duplicates(
            session=form.session,
            caller=form.login.caller,
            case_id=form.case.id,
            link_ids=chosen,
            policy=form.runtime.policy,
            notifier=form.runtime.notifier,
        )
        form.session.commit()
    except ValueError:
        return form.page(422, error={"field": "link_ids", "message": "not a post of this list"})
    except TanggapError as exc:
        return form.page(exc.status_code, error=_error(exc))
    deliver_actions(form.runtime, [a.id for a in queued], reason=str(form.case.id))
    return form.back("#near-duplicates")
