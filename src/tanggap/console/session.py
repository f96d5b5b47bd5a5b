"""Who is signed into the review console (the shared mechanics live in web/accounts.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from tanggap.auth import logins
from tanggap.web.accounts import Area, login_dependency

CONSOLE = Area(
    name="console",
    prefix="/console",
    roles=("reviewer", "lead", "admin"),
    cookie="tanggap_console",
    home="/console/queues",
)
ConsoleLogin = Annotated[logins.WebLogin, Depends(login_dependency(CONSOLE))]
