"""HTTP: the public transparency report over a period, as JSON or CSV; open to anyone."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from tanggap.db.base import utcnow
from tanggap.errors import InvalidInput, Unavailable
from tanggap.http.deps import RuntimeDep, SessionDep
from tanggap.http.openapi import answers
from tanggap.transparency import report
from tanggap.transparency.period import period
from tanggap.transparency.schemas import TransparencyReport

router = APIRouter(prefix="/v1", tags=["transparency"])
Since = Annotated[
    datetime | None,
    Query(description="Start, included: a date (UTC midnight) or a time; default a year back."),
]
Until = Annotated[
    datetime | None,
    Query(description="End, excluded; default the end of today (UTC). At most 366 days on."),
]


def _report(
    session: SessionDep, runtime: RuntimeDep, since: datetime | None, until: datetime | None
) -> TransparencyReport:
    asked = period(since=since, until=until, now=utcnow())
    with runtime.transparency_builds.slot():
        return report.build(
            session=session,
            policy=runtime.policy,
            period=asked,
            government_requests=runtime.government_requests,
        )


@router.get(
    "/transparency", response_model=TransparencyReport, responses=answers(InvalidInput, Unavailable)
)
def transparency(
    session: SessionDep, runtime: RuntimeDep, since: Since = None, until: Until = None
) -> TransparencyReport:
    """The transparency report over [since, until): orders, notices, own-initiative
    moderation, complaints, automated means, terrorist content and the legal clocks (EU
    Implementing Regulation 2024/2835, Reg. 2021/784 Art. 7). No personal data; no sign-in."""
    return _report(session, runtime, since, until)


@router.get(
    "/transparency.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **answers(InvalidInput, Unavailable),
    },
)
def transparency_csv(
    session: SessionDep, runtime: RuntimeDep, since: Since = None, until: Until = None
) -> Response:
    """The same report, one row per figure: section, measure, dimensions, value."""
    found = _report(session, runtime, since, until)
    name = f"transparency-{found.since:%Y%m%d}-{found.until:%Y%m%d}.csv"
    return Response(
        report.csv_text(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
