"""The flagger portal: log in, submit one or many links, follow reports, talk, export."""

from __future__ import annotations

import csv
import io
import secrets
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from tanggap.api import idempotent
from tanggap.api.deps import RuntimeDep, SessionDep
from tanggap.auth import web
from tanggap.errors import InvalidInput, TanggapError
from tanggap.portal import intake
from tanggap.portal.session import (
    LANGUAGE_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    NotFoundPage,
    PortalLogin,
    check_csrf,
)
from tanggap.reports import bulk, service
from tanggap.reports.present import present
from tanggap.reports.schemas import REPORT_STATUSES, BulkLine, ReportOut
from tanggap.threads import service as threads
from tanggap.threads.schemas import MessageIn
from tanggap.web import i18n
from tanggap.web.templating import templates

router = APIRouter(prefix="/portal", include_in_schema=False)
PAGE_SIZE = 50
EXPORT_COLUMNS = (
    "report_id", "status", "category", "order_type", "link", "received_at", "deadline",
    "decided_at", "time_to_action_seconds", "within_deadline", "outcome", "explanation",
    "legal_basis", "issuing_authority", "note",
)  # fmt: skip


def page(
    request: Request,
    name: str,
    login: web.WebLogin | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a portal page, in the request's language, with what every page needs."""
    language = i18n.use(getattr(request.state, "language", None))
    policy = request.app.state.runtime.policy
    names = {c.id: c.display_name(language) for c in policy.categories}
    return templates.TemplateResponse(
        request,
        f"portal/{name}",
        {
            "category_name": lambda category_id: names.get(category_id, category_id),
            "login": login,
            "csrf_token": login.csrf_token if login else None,
            "statuses": REPORT_STATUSES,
            **context,
        },
        status_code=status_code,
    )


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, error: str | None = None) -> HTMLResponse:
    """Show the login form with a fresh double-submit CSRF token."""
    request.state.language = request.cookies.get(LANGUAGE_COOKIE) or "id"
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", None, login_token=token, error=error)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request)
    )
    return response


@router.post("/login")
def login_submit(
    request: Request,
    runtime: RuntimeDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    login_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Check the password; open a session or say why not (without saying which part was wrong)."""
    request.state.language = request.cookies.get(LANGUAGE_COOKIE) or "id"
    i18n.use(request.state.language)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or not secrets.compare_digest(expected, login_token):
        return login_form(request, error=i18n.gettext("The form expired. Please try again."))
    outcome = web.login(factory=runtime.factory, email=email, password=password, roles=("flagger",))
    if isinstance(outcome, web.LoginRefused):
        message = i18n.gettext(
            "Wrong e-mail or password. After 5 failed attempts an account waits 15 minutes."
        )
        response = login_form(request, error=message)
        response.status_code = 401
        return response
    cookie, login = outcome
    target = "/portal/password" if login.must_change_password else "/portal/reports"
    redirect = RedirectResponse(target, status_code=303)
    redirect.set_cookie(
        SESSION_COOKIE, cookie, httponly=True, samesite="lax", secure=_secure(request)
    )
    redirect.delete_cookie(LOGIN_CSRF_COOKIE)
    return redirect


@router.post("/logout")
def logout(
    request: Request,
    runtime: RuntimeDep,
    login: PortalLogin,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """End the session."""
    check_csrf(login, csrf_token)
    with runtime.factory() as session, session.begin():
        web.logout(session=session, cookie=request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/portal/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/language")
def choose_language(
    runtime: RuntimeDep,
    login: PortalLogin,
    language: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/portal/reports",
) -> Response:
    """Switch the portal's language and remember it."""
    check_csrf(login, csrf_token)
    chosen = language if language in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
    with runtime.factory() as session, session.begin():
        web.set_language(session=session, caller=login.caller, language=chosen)
    target = back if back.startswith("/portal/") else "/portal/reports"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(LANGUAGE_COOKIE, chosen, samesite="lax")
    return response


@router.get("/password", response_class=HTMLResponse)
def password_form(request: Request, login: PortalLogin) -> HTMLResponse:
    """Show the change-password form (compulsory after a one-time password)."""
    return page(request, "password.html", login)


@router.post("/password", response_class=HTMLResponse)
def password_submit(
    request: Request,
    runtime: RuntimeDep,
    login: PortalLogin,
    current: Annotated[str, Form(max_length=256)] = "",
    new: Annotated[str, Form(max_length=300)] = "",
    repeat: Annotated[str, Form(max_length=300)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Change the password."""
    check_csrf(login, csrf_token)
    try:
        with runtime.factory() as session, session.begin():
            cookie = web.change_password(
                session=session,
                caller=login.caller,
                current=current,
                new=new,
                repeat=repeat,
            )
    except InvalidInput as exc:
        return page(request, "password.html", login, 422, error=exc.message, field=exc.field)
    redirect = RedirectResponse("/portal/reports", status_code=303)
    redirect.set_cookie(
        SESSION_COOKIE, cookie, httponly=True, samesite="lax", secure=_secure(request)
    )
    return redirect


@router.get("", response_class=HTMLResponse)
def home(login: PortalLogin) -> Response:
    """Go to the report list."""
    return RedirectResponse("/portal/reports", status_code=303)


def _filters(
    status: str | None, since: str | None, until: str | None
) -> tuple[list[str] | None, datetime | None, datetime | None, str | None]:
    """Read the list filters: dates are whole UTC days (as the pages show), both included."""
    statuses = [status] if status in REPORT_STATUSES else None
    bounds: list[datetime | None] = []
    problem = None
    for value, extra in ((since, timedelta(0)), (until, timedelta(days=1))):
        try:
            day = date.fromisoformat(value) if value else None
        except ValueError:
            day = None
            problem = i18n.gettext("Dates look like 2026-11-23.")
        if day is not None and not 2000 <= day.year < 2100:
            day, problem = None, i18n.gettext("Dates look like 2026-11-23.")
        bounds.append(datetime.combine(day, time(), UTC) + extra if day else None)
    return statuses, bounds[0], bounds[1], problem


@router.get("/reports", response_class=HTMLResponse)
def report_list(
    request: Request,
    session: SessionDep,
    login: PortalLogin,
    status: Annotated[str | None, Query()] = None,
    since: Annotated[str | None, Query()] = None,
    until: Annotated[str | None, Query()] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    """The organisation's reports, newest first, with live deadline countdowns."""
    i18n.use(getattr(request.state, "language", None))
    statuses, start, end, problem = _filters(status, since, until)
    found, total = service.list_visible(
        session=session,
        caller=login.caller,
        statuses=statuses,
        since=start,
        until=end,
        limit=PAGE_SIZE,
        offset=offset,
    )
    return page(
        request,
        "reports.html",
        login,
        reports=present(session=session, reports=found),
        total=total,
        offset=offset,
        page_size=PAGE_SIZE,
        filters={"status": status or "", "since": since or "", "until": until or ""},
        problem=problem,
    )


@router.get("/reports.csv")
def report_export(
    session: SessionDep,
    login: PortalLogin,
    status: Annotated[str | None, Query()] = None,
    since: Annotated[str | None, Query()] = None,
    until: Annotated[str | None, Query()] = None,
) -> Response:
    """Export the filtered list as CSV (UTF-8, one row per report)."""
    statuses, start, end, _ = _filters(status, since, until)
    found, _total = service.list_visible(
        session=session,
        caller=login.caller,
        statuses=statuses,
        since=start,
        until=end,
        limit=100_000,
        offset=0,
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for report in present(session=session, reports=found):
        writer.writerow(_export_row(report))
    return Response(
        out.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="tanggap-reports.csv"'},
    )


def _export_row(report: ReportOut) -> list[object]:
    values = report.model_dump(mode="json")
    values["link"] = report.target.url
    return [_cell(values.get(name)) for name in EXPORT_COLUMNS]


def _cell(value: object) -> object:
    # A spreadsheet runs a cell that starts with = + - @ as a formula: keep text as text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


@router.get("/submit", response_class=HTMLResponse)
def submit_form(request: Request, runtime: RuntimeDep, login: PortalLogin) -> HTMLResponse:
    """The submission page: one link, many pasted links, or a CSV file."""
    return page(
        request,
        "submit.html",
        login,
        categories=runtime.policy.categories,
        submission_id=uuid.uuid4().hex,
    )


@router.post("/submit", response_class=HTMLResponse)
async def submit(
    request: Request,
    runtime: RuntimeDep,
    login: PortalLogin,
    csrf_token: Annotated[str, Form()] = "",
    submission_id: Annotated[str, Form(max_length=64)] = "",
    mode: Annotated[str, Form()] = "single",
    link: Annotated[str, Form(max_length=2048)] = "",
    links: Annotated[str, Form(max_length=300_000)] = "",
    category: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    order_type: Annotated[str, Form(max_length=20)] = "notice",
    legal_basis: Annotated[str, Form(max_length=500)] = "",
    issuing_authority: Annotated[str, Form(max_length=300)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    """Submit; every line gets its fate on the results page, and a resent form changes nothing."""
    check_csrf(login, csrf_token)
    try:
        if mode == "csv":
            data = await file.read(intake.MAX_CSV_BYTES + 1) if file is not None else b""
            lines = intake.csv_lines(data)
        elif mode == "paste":
            lines = intake.pasted_lines(links, category=category, note=note or None)
        else:
            lines = [
                {
                    "target": link,
                    "category": category,
                    "note": note or None,
                    "order_type": order_type,
                    "legal_basis": legal_basis or None,
                    "issuing_authority": issuing_authority or None,
                }
            ]
    except InvalidInput as exc:
        return _submit_again(request, runtime, login, exc.message)
    try:
        results = _submit_lines(runtime, login, lines, submission_id)
    except InvalidInput as exc:  # the form was sent again with other content
        return _submit_again(request, runtime, login, exc.message)
    return page(request, "results.html", login, results=results, lines=lines)


def _submit_again(request: Request, runtime: Any, login: web.WebLogin, error: str) -> HTMLResponse:
    """The submission page again, with the reason and a fresh form id."""
    return page(
        request,
        "submit.html",
        login,
        422,
        categories=runtime.policy.categories,
        submission_id=uuid.uuid4().hex,
        error=error,
    )


def _submit_lines(
    runtime: Any, login: web.WebLogin, lines: list[dict[str, Any]], submission_id: str
) -> list[BulkLine]:
    with runtime.factory() as session:

        def work() -> tuple[int, dict[str, Any]]:
            fates = bulk.submit_many(
                session=session,
                caller=login.caller,
                lines=lines,
                policy=runtime.policy,
                secret_key=runtime.settings.secret_key,
                notifier=runtime.notifier,
            )
            return 200, {"results": [f.model_dump(mode="json") for f in fates]}

        _, body, _ = idempotent.run(
            session=session,
            caller=login.caller,
            endpoint="portal submit",
            key=submission_id or None,
            payload=lines,
            secret_key=runtime.settings.secret_key,
            work=work,
        )
    return [BulkLine.model_validate(line) for line in body["results"]]


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_page(
    request: Request, report_id: str, session: SessionDep, login: PortalLogin
) -> HTMLResponse:
    """One report: its status and clock, the decision, and the thread."""
    report, messages = _with_thread(session, login, report_id)
    return page(request, "report.html", login, report=report, messages=messages)


def _visible(session: Any, login: web.WebLogin, report_id: str) -> ReportOut:
    try:
        parsed = uuid.UUID(report_id)
        found = service.get_visible(session=session, caller=login.caller, report_id=parsed)
    except (ValueError, TanggapError) as exc:
        raise NotFoundPage from exc
    return present(session=session, reports=[found])[0]


def _with_thread(session: Any, login: web.WebLogin, report_id: str) -> tuple[ReportOut, list[Any]]:
    """The report and its thread; reading the thread marks the platform's messages read."""
    report = _visible(session, login, report_id)
    messages = threads.messages(session=session, caller=login.caller, report_id=report.report_id)
    session.commit()
    return report, messages


@router.get("/reports/{report_id}/status", response_class=HTMLResponse)
def report_status(
    request: Request, report_id: str, session: SessionDep, login: PortalLogin
) -> HTMLResponse:
    """The status panel alone, polled by the report page."""
    report = _visible(session, login, report_id)
    return page(request, "_status.html", login, report=report)


@router.get("/reports/{report_id}/thread", response_class=HTMLResponse)
def report_thread(
    request: Request, report_id: str, session: SessionDep, login: PortalLogin
) -> HTMLResponse:
    """The thread alone, polled by the report page (reading it marks it read)."""
    report, messages = _with_thread(session, login, report_id)
    return page(request, "_messages.html", login, report=report, messages=messages)


@router.post("/reports/{report_id}/messages", response_class=HTMLResponse)
def report_message(
    request: Request,
    report_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    login: PortalLogin,
    body: Annotated[str, Form(max_length=6000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Write on the thread; answer the refreshed thread."""
    check_csrf(login, csrf_token)
    i18n.use(getattr(request.state, "language", None))
    report = _visible(session, login, report_id)
    error = None
    try:
        data = MessageIn(body=body).body
        threads.post_message(
            session=session,
            caller=login.caller,
            report_id=report.report_id,
            body=data,
            notifier=runtime.notifier,
        )
    except (InvalidInput, ValidationError) as exc:
        session.rollback()
        error = exc.message if isinstance(exc, InvalidInput) else i18n.gettext("Write a message.")
    messages = threads.messages(session=session, caller=login.caller, report_id=report.report_id)
    session.commit()
    return page(request, "_thread.html", login, report=report, messages=messages, error=error)
