"""Who is signed into the portal: cookies, CSRF, the redirects when nobody is."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from tanggap.api.deps import RuntimeDep
from tanggap.auth import web
from tanggap.web import i18n
from tanggap.web.templating import templates

SESSION_COOKIE = "tanggap_session"
LOGIN_CSRF_COOKIE = "tanggap_login_csrf"
LANGUAGE_COOKIE = "tanggap_language"
ALWAYS_ALLOWED = ("/portal/password", "/portal/logout", "/portal/language")


class NeedLogin(Exception):
    """Nobody (or not a flagger) is signed in: go to the login page."""


class MustChangePassword(Exception):
    """The member still has the one-time password."""


class CsrfRejected(Exception):
    """A form arrived without this session's CSRF token."""


class NotFoundPage(Exception):
    """A report that does not exist, or is not the organisation's."""


def current_login(request: Request, runtime: RuntimeDep) -> web.WebLogin:
    """Return the signed-in flagger, in their language; redirect to the login page otherwise."""
    # Dependencies and endpoints may run in different threads: the language travels on the
    # request, and is applied where a page is rendered.
    request.state.language = request.cookies.get(LANGUAGE_COOKIE)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise NeedLogin
    with runtime.factory() as session, session.begin():
        login = web.resume(session=session, cookie=cookie)
    if login is None or login.caller.role != "flagger":
        raise NeedLogin
    request.state.language = login.language or request.state.language
    if login.must_change_password and not request.url.path.startswith(ALWAYS_ALLOWED):
        raise MustChangePassword
    return login


PortalLogin = Annotated[web.WebLogin, Depends(current_login)]


def check_csrf(login: web.WebLogin, token: str | None) -> None:
    """Refuse a form whose CSRF token is not this session's."""
    if not token or not hmac.compare_digest(token, login.csrf_token):
        raise CsrfRejected


def _redirect(request: Request, to: str) -> Response:
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": to})
    return RedirectResponse(to, status_code=303)


def install(app: FastAPI) -> None:
    """Register the portal's redirects and refusals on ``app``."""

    @app.exception_handler(NeedLogin)
    async def _login(request: Request, _: NeedLogin) -> Response:
        return _redirect(request, "/portal/login")

    @app.exception_handler(MustChangePassword)
    async def _password(request: Request, _: MustChangePassword) -> Response:
        return _redirect(request, "/portal/password")

    @app.exception_handler(NotFoundPage)
    async def _missing(request: Request, _: NotFoundPage) -> Response:
        i18n.use(getattr(request.state, "language", None))
        return templates.TemplateResponse(
            request,
            "error.html",
            {
                "title": i18n.gettext("Report not found"),
                "message": i18n.gettext("There is no such report among your organisation's."),
            },
            status_code=404,
        )

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, _: CsrfRejected) -> Response:
        i18n.use(getattr(request.state, "language", None))
        return templates.TemplateResponse(
            request,
            "error.html",
            {
                "title": i18n.gettext("Form expired"),
                "message": i18n.gettext(
                    "This form was not sent from your current session. Reload the page."
                ),
            },
            status_code=403,
        )
