"""The case page: the post, its context, the reports and threads, why it is here; taking the
case, keeping the lease, giving it back, revealing blurred media."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tanggap.cases import claims
from tanggap.cases import service as cases
from tanggap.console.pages import FormOnCase, lease, page, show_case, visible_case
from tanggap.console.session import ConsoleLogin
from tanggap.errors import InvalidInput, TanggapError
from tanggap.http.deps import RuntimeDep, SessionDep
from tanggap.review import assignment, case_page
from tanggap.validation import bounded_time
from tanggap.web import i18n
from tanggap.web.accounts import NotFoundPage

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def show(
    request: Request, case_id: str, session: SessionDep, runtime: RuntimeDep, login: ConsoleLogin
) -> HTMLResponse:
    """One case: the post, its context, the reports and threads, why it is here, the decision."""
    case = visible_case(session, runtime, login, case_id)
    return show_case(request, session, runtime, login, case)


@router.post("/cases/{case_id}/threads/read")
def threads_read(form: FormOnCase, upto: Annotated[str, Form(max_length=64)] = "") -> Response:
    """Mark the flaggers' messages on this case read, up to the newest the page showed (the
    page posts this once it shows them)."""
    try:
        shown = datetime.fromisoformat(upto) if upto else None
        if shown is not None:
            shown = bounded_time(shown, "upto")
    except (ValueError, InvalidInput) as exc:
        message = exc.message if isinstance(exc, InvalidInput) else "not a time"
        return Response(f"upto: {message}", status_code=422, media_type="text/plain")
    case_page.mark_threads_read(
        session=form.session,
        caller=form.login.caller,
        case=form.case,
        upto=shown,
        policy=form.runtime.policy,
    )
    form.session.commit()
    return Response(status_code=204)


@router.post("/cases/{case_id}/claim")
def claim(form: FormOnCase) -> Response:
    """Take this case (or renew your lease on it)."""
    try:
        assignment.assign(
            session=form.session,
            caller=form.login.caller,
            case_id=form.case.id,
            lease=lease(form.runtime),
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
            case = assignment.assign(
                session=form.session,
                caller=form.login.caller,
                case_id=case.id,
                lease=lease(form.runtime),
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
        claims.release(session=form.session, caller=form.login.caller, case_id=form.case.id)
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
    case_page.record_reveal(
        session=form.session, caller=form.login.caller, case=form.case, position=position
    )
    form.session.commit()
    return page(form.request, "_media.html", form.login, media=media, revealed=True)
