"""The leads' staffing page: today's answer for the current load (docs/simulation.md)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tanggap.auth.schemas import LEAD_ROLES
from tanggap.console.pages import page
from tanggap.console.session import ConsoleLogin
from tanggap.db.base import utcnow
from tanggap.http.deps import RuntimeDep, SessionDep
from tanggap.simulation import staffing as planning
from tanggap.web import i18n
from tanggap.web.accounts import NotFoundPage

router = APIRouter(prefix="/console", include_in_schema=False)
# The chart's scale: a bar per group, this many pixels a head.
BAR_UNIT = 24


@router.get("/staffing", response_class=HTMLResponse)
def staffing(
    request: Request, session: SessionDep, runtime: RuntimeDep, login: ConsoleLogin
) -> HTMLResponse:
    """The smallest roster per skill set and shift that meets every clock at the current load."""
    if login.caller.role not in LEAD_ROLES:
        raise NotFoundPage(i18n.gettext("Page not found"), i18n.gettext("This page is for leads."))
    started = time.perf_counter()
    try:
        answer = planning.staffing(session=session, policy=runtime.policy, now=utcnow())
    except planning.TooLarge:
        answer = None
    return page(
        request,
        "staffing.html",
        login,
        answer=answer,
        shifts=planning.SHIFTS,
        shift_length=planning.SHIFT_LENGTH,
        horizon=planning.HORIZON,
        max_count=planning.MAX_COUNT,
        max_cases=planning.MAX_CASES_A_DAY,
        assumed=planning.ASSUMED_HANDLING,
        unit=BAR_UNIT,
        seconds=time.perf_counter() - started,
    )
