"""The portal's Telegram page: a one-time code to link a member's account to the flaggers' bot,
the link as it stands, and unlinking in one action."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from tanggap.auth import logins
from tanggap.flaggers import telegram_links
from tanggap.http.deps import RuntimeDep, SessionDep
from tanggap.portal.session import PortalLogin
from tanggap.portal.views import page
from tanggap.runtime import Runtime
from tanggap.web.accounts import check_csrf

router = APIRouter(prefix="/portal/telegram", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def telegram_page(
    request: Request, session: SessionDep, runtime: RuntimeDep, login: PortalLogin
) -> HTMLResponse:
    """Whether the member's Telegram account is linked, and how to link it."""
    state = telegram_links.state_of(session=session, principal_id=login.caller.id)
    return _page(request, runtime, login, state)


@router.post("/code", response_class=HTMLResponse)
def new_code(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    login: PortalLogin,
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Give the member a fresh link code (an earlier one stops working), shown this once."""
    check_csrf(login, csrf_token)
    code = telegram_links.issue_code(session=session, principal_id=login.caller.id)
    session.commit()
    state = telegram_links.state_of(session=session, principal_id=login.caller.id)
    return _page(request, runtime, login, state, code=code)


@router.post("/unlink", response_class=HTMLResponse)
def unlink(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    login: PortalLogin,
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Unlink the member's Telegram account: the bot forgets it at once."""
    check_csrf(login, csrf_token)
    telegram_links.unlink(
        session=session, principal_id=login.caller.id, actor=login.caller.audit_actor
    )
    session.commit()
    state = telegram_links.state_of(session=session, principal_id=login.caller.id)
    return _page(request, runtime, login, state, unlinked=True)


def _page(
    request: Request,
    runtime: Runtime,
    login: logins.WebLogin,
    state: telegram_links.LinkState,
    **context: Any,
) -> HTMLResponse:
    username = (runtime.settings.telegram_bot_username or "").lstrip("@") or None
    return page(request, "telegram.html", login, state=state, bot=username, **context)
