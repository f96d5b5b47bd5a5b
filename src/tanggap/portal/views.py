"""The flagger portal: log in, submit one or many links, follow reports, talk, export."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tanggap.auth import logins
from tanggap.errors import InvalidInput, TanggapError
from tanggap.http import idempotent
from tanggap.http.deps import RuntimeDep, SessionDep
from tanggap.portal import intake
from tanggap.portal.session import PortalLogin
from tanggap.reports import bulk, service, threads
from tanggap.reports.models import ReportMessage
from tanggap.reports.present import present
from tanggap.reports.schemas import REPORT_STATUSES, BulkLine, MessageIn, ReportOut
from tanggap.runtime import Runtime
from tanggap.web import i18n
from tanggap.web.accounts import NotFoundPage, check_csrf, render

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
    login: logins.WebLogin | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a portal page, in the request's language, with what every page needs."""
    return render(
        request, f"portal/{name}", login, status_code, statuses=REPORT_STATUSES, **context
    )


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
    runtime: RuntimeDep,
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
        policy=runtime.policy,
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
    runtime: RuntimeDep,
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
        policy=runtime.policy,
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
        # In a worker thread: a thousand lines take seconds, and the event loop serves others.
        results = await run_in_threadpool(_submit_lines, runtime, login, lines, submission_id)
    except InvalidInput as exc:  # the form was sent again with other content
        return _submit_again(request, runtime, login, exc.message)
    return page(request, "results.html", login, results=results, lines=lines)


def _submit_again(
    request: Request, runtime: Runtime, login: logins.WebLogin, error: str
) -> HTMLResponse:
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
    runtime: Runtime, login: logins.WebLogin, lines: list[dict[str, Any]], submission_id: str
) -> list[BulkLine]:
    with runtime.factory() as session:

        def work() -> tuple[int, dict[str, Any]]:
            fates = bulk.submit_many(
                session=session,
                caller=login.caller,
                lines=lines,
                policy=runtime.policy,
                keyring=runtime.settings.keyring,
                notifier=runtime.notifier,
            )
            return 200, {"results": [f.model_dump(mode="json") for f in fates.lines]}

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
    request: Request, report_id: str, session: SessionDep, runtime: RuntimeDep, login: PortalLogin
) -> HTMLResponse:
    """One report: its status and clock, the decision, and the thread (the page then fetches
    the thread with a form of its own, which marks it read)."""
    report = _visible(session, runtime, login, report_id)
    messages = threads.thread(
        session=session, caller=login.caller, report_id=report.report_id, policy=runtime.policy
    )
    return page(request, "report.html", login, report=report, messages=messages)


def _visible(
    session: Session, runtime: Runtime, login: logins.WebLogin, report_id: str
) -> ReportOut:
    try:
        parsed = uuid.UUID(report_id)
        found = service.get_visible(
            session=session, caller=login.caller, report_id=parsed, policy=runtime.policy
        )
    except (ValueError, TanggapError) as exc:
        raise NotFoundPage from exc
    return present(session=session, reports=[found])[0]


def _read_thread(
    session: Session, runtime: Runtime, login: logins.WebLogin, report: ReportOut
) -> list[ReportMessage]:
    """The thread, its platform messages marked read (the flagger has it in front of them)."""
    caller, policy = login.caller, runtime.policy
    threads.mark_read(session=session, caller=caller, report_id=report.report_id, policy=policy)
    session.commit()
    return threads.thread(session=session, caller=caller, report_id=report.report_id, policy=policy)


@router.get("/reports/{report_id}/status", response_class=HTMLResponse)
def report_status(
    request: Request, report_id: str, session: SessionDep, runtime: RuntimeDep, login: PortalLogin
) -> HTMLResponse:
    """The status panel alone, polled by the report page."""
    report = _visible(session, runtime, login, report_id)
    return page(request, "_status.html", login, report=report)


@router.post("/reports/{report_id}/thread", response_class=HTMLResponse)
def report_thread(
    request: Request,
    report_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    login: PortalLogin,
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The thread alone, fetched by the report page when it shows and then every few seconds;
    the platform's messages it shows are marked read."""
    check_csrf(login, csrf_token)
    report = _visible(session, runtime, login, report_id)
    messages = _read_thread(session, runtime, login, report)
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
    report = _visible(session, runtime, login, report_id)
    error = None
    try:
        data = MessageIn(body=body).body
        threads.post_message(
            session=session,
            caller=login.caller,
            report_id=report.report_id,
            body=data,
            notifier=runtime.notifier,
            policy=runtime.policy,
        )
    except (InvalidInput, ValidationError) as exc:
        session.rollback()
        error = exc.message if isinstance(exc, InvalidInput) else i18n.gettext("Write a message.")
    messages = _read_thread(session, runtime, login, report)
    return page(request, "_thread.html", login, report=report, messages=messages, error=error)
