"""Who is signed into the flagger portal (the shared mechanics live in web/accounts.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from tanggap.auth import logins
from tanggap.web.accounts import Area, login_dependency

PORTAL = Area(
    name="portal",
    prefix="/portal",
    roles=("flagger",),
    cookie="tanggap_session",
    home="/portal/reports",
)
PortalLogin = Annotated[logins.WebLogin, Depends(login_dependency(PORTAL))]
