"""Who is signed into the console (the shared mechanics live in web/accounts.py): reviewers,
leads and admins work the review pages; legal officers and admins the legal register."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import Depends

from tanggap.auth import logins
from tanggap.web.accounts import Area, login_dependency

CONSOLE = Area(
    name="console",
    prefix="/console",
    roles=("reviewer", "lead", "admin", "legal"),
    cookie="tanggap_console",
    home="/console/queues",
    role_homes=(("legal", "/console/legal"),),
)
REVIEW = replace(CONSOLE, roles=("reviewer", "lead", "admin"))
REGISTER = replace(CONSOLE, roles=("legal", "admin"))
# Anyone signed into the console: the account pages (password, language, log out).
ConsoleAccount = Annotated[logins.WebLogin, Depends(login_dependency(CONSOLE))]
# The review pages.
ConsoleLogin = Annotated[logins.WebLogin, Depends(login_dependency(REVIEW))]
# The legal register's pages.
RegisterLogin = Annotated[logins.WebLogin, Depends(login_dependency(REGISTER))]
