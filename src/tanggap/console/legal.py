"""The legal register's pages: the list, the intake form, a request with its assessment and
decision forms, its letters and its signed instruction."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tanggap.auth import logins
from tanggap.console.pages import page
from tanggap.console.session import RegisterLogin
from tanggap.errors import InvalidInput, TanggapError
from tanggap.http.deps import RuntimeDep, SessionDep
from tanggap.legal import service
from tanggap.legal.intake import FormIntake, read_form
from tanggap.legal.models import RequestKind, RequestState
from tanggap.legal.present import request_out
from tanggap.legal.schemas import AssessmentIn, LegalDecisionIn, RequestFilter
from tanggap.legal.signed import instruction_of
from tanggap.validation import validation_details
from tanggap.web import i18n
from tanggap.web.accounts import NotFoundPage, check_csrf

router = APIRouter(prefix="/console/legal", include_in_schema=False)
FormText = Annotated[str, Form(max_length=1000)]
FormArea = Annotated[str, Form(max_length=100_000)]


def _error(exc: TanggapError) -> dict[str, str]:
    return {"field": exc.field or "", "message": exc.message}


@router.get("", response_class=HTMLResponse)
def register_list(
    request: Request,
    session: SessionDep,
    login: RegisterLogin,
    kind: str = "",
    country: str = "",
    state: str = "",
) -> HTMLResponse:
    """The register: every request, newest received first, filtered by kind, country, state."""
    error = None
    found = []
    try:
        where = RequestFilter.model_validate(
            {"kind": kind or None, "country": country or None, "state": state or None}
        )
        found = service.list_requests(session=session, where=where)
    except ValidationError as exc:
        first = validation_details([dict(e) for e in exc.errors()])[0]
        error = {"field": first["field"], "message": first["message"]}
    except TanggapError as exc:
        error = _error(exc)
    return page(
        request,
        "legal_list.html",
        login,
        422 if error else 200,
        requests=found,
        kinds=list(RequestKind),
        states=list(RequestState),
        chosen={"kind": kind, "country": country, "state": state},
        error=error,
    )


@router.get("/new", response_class=HTMLResponse)
def intake_form(request: Request, login: RegisterLogin) -> HTMLResponse:
    """The intake form of a new request."""
    return page(request, "legal_new.html", login, kinds=list(RequestKind), values={}, error=None)


@router.post("/requests", response_class=HTMLResponse)
def intake(
    request: Request,
    session: SessionDep,
    login: RegisterLogin,
    kind: FormText = "",
    authority: FormText = "",
    country: FormText = "",
    legal_basis: FormText = "",
    reference: FormText = "",
    received_at: FormText = "",
    links: FormArea = "",
    channels: FormArea = "",
    pseudonyms: FormArea = "",
    report_ids: FormArea = "",
    documents: Annotated[list[UploadFile], File()] = [],  # noqa: B006 (FastAPI copies it)
    csrf_token: FormText = "",
) -> Response:
    """Register a request; a wrong field shows the form again, naming it, with nothing kept."""
    check_csrf(login, csrf_token)
    fields = {
        "kind": kind,
        "authority": authority,
        "country": country,
        "legal_basis": legal_basis,
        "reference": reference,
        "received_at": received_at,
    }
    lists = {"links": links, "channels": channels, "pseudonyms": pseudonyms}
    lists["report_ids"] = report_ids
    form = FormIntake(
        fields=fields,
        lists={name: [value] for name, value in lists.items()},
        files=[upload.file.read() for upload in documents if upload.filename],
    )
    try:
        data, digests = read_form(form)
        created = service.register(
            session=session, caller=login.caller, data=data, documents=digests
        )
    except TanggapError as exc:
        session.rollback()
        return page(
            request,
            "legal_new.html",
            login,
            exc.status_code,
            kinds=list(RequestKind),
            values=fields | lists,
            error=_error(exc),
        )
    session.commit()
    return RedirectResponse(f"/console/legal/requests/{created.id}", status_code=303)


def _found(session: Session, request_id: str) -> uuid.UUID:
    """The id of an existing request, or the not-found page."""
    try:
        return service.get(session=session, request_id=uuid.UUID(request_id)).id
    except (ValueError, TanggapError) as exc:
        raise NotFoundPage(
            i18n.gettext("Request not found"), i18n.gettext("There is no such request.")
        ) from exc


def _request_page(
    request: Request,
    session: Session,
    login: logins.WebLogin,
    request_id: str,
    status_code: int = 200,
    error: dict[str, str] | None = None,
) -> HTMLResponse:
    found = service.get(session=session, request_id=_found(session, request_id))
    shown = request_out(session=session, request=found)
    letters = service.letters_of(session=session, request_id=found.id)
    signed = instruction_of(session=session, request_id=found.id) if shown.instruction else None
    return page(
        request,
        "legal_request.html",
        login,
        status_code,
        r=shown,
        letters=letters,
        signed=signed,
        error=error,
    )


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def request_page(
    request: Request, request_id: str, session: SessionDep, login: RegisterLogin
) -> HTMLResponse:
    """A request: what it asks, its documents' digests, the finding, the answer."""
    return _request_page(request, session, login, request_id)


@router.post("/requests/{request_id}/assessment", response_class=HTMLResponse)
def assess(
    request: Request,
    request_id: str,
    session: SessionDep,
    login: RegisterLogin,
    court_order: FormText = "",
    names_suspect: FormText = "",
    finding: Annotated[str, Form(max_length=5000)] = "",
    csrf_token: FormText = "",
) -> Response:
    """Record the finding on a request; a wrong field shows the page again, naming it."""
    check_csrf(login, csrf_token)
    found = _found(session, request_id)
    try:
        data = AssessmentIn.model_validate(
            {
                "court_order": court_order == "true",
                "names_suspect": names_suspect == "true",
                "finding": finding,
            }
        )
    except ValidationError as exc:
        first = validation_details([dict(e) for e in exc.errors()])[0]
        error = InvalidInput(first["message"], field=first["field"])
        return _request_page(request, session, login, request_id, 422, _error(error))
    try:
        service.assess(session=session, caller=login.caller, request_id=found, data=data)
    except TanggapError as exc:
        session.rollback()
        return _request_page(request, session, login, request_id, exc.status_code, _error(exc))
    session.commit()
    return RedirectResponse(f"/console/legal/requests/{request_id}", status_code=303)


@router.post("/requests/{request_id}/decision", response_class=HTMLResponse)
def decide(
    request: Request,
    request_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    login: RegisterLogin,
    outcome: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Grant, refuse or answer a request; a refusal shows the page again with the reason."""
    check_csrf(login, csrf_token)
    found = _found(session, request_id)
    try:
        chosen = LegalDecisionIn.model_validate({"outcome": outcome})
    except ValidationError:
        error = InvalidInput("choose grant, refuse or answer", field="outcome")
        return _request_page(request, session, login, request_id, 422, _error(error))
    try:
        service.decide(
            session=session,
            caller=login.caller,
            request_id=found,
            outcome=chosen.outcome,
            policy=runtime.policy,
            key=lambda: runtime.checkpoint_key,
        )
    except TanggapError as exc:
        session.rollback()
        return _request_page(request, session, login, request_id, exc.status_code, _error(exc))
    session.commit()
    return RedirectResponse(f"/console/legal/requests/{request_id}", status_code=303)
