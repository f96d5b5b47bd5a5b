"""The public transparency report page, server-rendered, in English or Indonesian."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from tanggap.db.base import utcnow
from tanggap.errors import InvalidInput, Unavailable
from tanggap.http.deps import RuntimeDep, SessionDep
from tanggap.transparency import report
from tanggap.transparency.period import period
from tanggap.transparency.schemas import Clock, CountByMethod, CountByOutcome
from tanggap.web import charts, i18n
from tanggap.web.accounts import LANGUAGE_COOKIE
from tanggap.web.templating import templates

router = APIRouter(include_in_schema=False)


def duration(seconds: int | None) -> str:
    """Write a duration the way a reader says it: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours = seconds // 60, seconds // 3600
    if seconds < 3600:
        return f"{minutes} min"
    if seconds < 86400:
        return f"{hours} h {minutes % 60} min" if minutes % 60 else f"{hours} h"
    return f"{hours // 24} d {hours % 24} h" if hours % 24 else f"{hours // 24} d"


def pairs(rows: Sequence[CountByOutcome | CountByMethod], key: str) -> list[tuple[str, float]]:
    """Return (label, count) of rows that count something, for a chart."""
    return [(str(getattr(row, key)), float(row.count)) for row in rows]


def shares(clocks: Sequence[Clock]) -> list[tuple[str, float]]:
    """Return (clock and source, share within deadline) of the clocks that decided anything."""
    return [
        (f"{c.clock} · {c.source}", c.within_deadline_share)
        for c in clocks
        if c.within_deadline_share is not None
    ]


def _day(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput("dates look like 2026-11-23", field=field) from exc


@router.get("/transparency", response_class=HTMLResponse)
def transparency_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    since: Annotated[str | None, Query()] = None,
    until: Annotated[str | None, Query()] = None,
    lang: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    """Show the transparency report over [since, until), with its charts."""
    language = i18n.use(lang or request.cookies.get(LANGUAGE_COOKIE))
    try:
        asked = period(since=_day(since, "since"), until=_day(until, "until"), now=utcnow())
    except InvalidInput as exc:
        return templates.TemplateResponse(
            request,
            "error.html",
            {"title": i18n.gettext("Bad request"), "message": f"{exc.field}: {exc.message}"},
            status_code=422,
        )
    try:
        with runtime.transparency_builds.slot():
            found = report.build(
                session=session,
                policy=runtime.policy,
                period=asked,
                government_requests=runtime.government_requests,
            )
    except Unavailable as exc:
        return templates.TemplateResponse(
            request,
            "error.html",
            {"title": i18n.gettext("Try again shortly"), "message": exc.message},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return templates.TemplateResponse(
        request,
        "transparency.html",
        {
            "report": found,
            "category_names": {c.id: c.display_name(language) for c in runtime.policy.categories},
            "lang": language,
            "duration": duration,
            "bars": charts.bars,
            "pairs": pairs,
            "shares": shares,
            "query": urlencode(
                {"since": found.since.isoformat(), "until": found.until.isoformat()}
            ),
        },
    )
