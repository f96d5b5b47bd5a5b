"""Signed-in web areas (the flagger portal, the review console): who is signed in, CSRF, and
the account pages every area shares (log in, log out, language, password).

No ``from __future__ import annotations`` here: the account routes are built per area, and
FastAPI must see their login dependency as a real annotation, not a name to look up later.
"""

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tanggap.auth import logins
from tanggap.errors import InvalidInput
from tanggap.http.deps import RuntimeDep
from tanggap.web import i18n
from tanggap.web.templating import templates

LOGIN_CSRF_COOKIE = "tanggap_login_csrf"
LANGUAGE_COOKIE = "tanggap_language"


@dataclass(frozen=True)
class Area:
    """A part of the site behind a login: its URL prefix, who may enter, its session cookie."""

    name: str
    prefix: str
    roles: tuple[str, ...]
    cookie: str
    home: str
    # Roles that land elsewhere than ``home`` (a legal officer: the legal register).
    role_homes: tuple[tuple[str, str], ...] = ()

    def home_of(self, role: str) -> str:
        """Return the first page of ``role`` in this area."""
        return dict(self.role_homes).get(role, self.home)

    @property
    def always_allowed(self) -> tuple[str, ...]:
        """Paths reachable while the password must still be changed."""
        return tuple(f"{self.prefix}/{p}" for p in ("password", "logout", "language"))


class NeedLogin(Exception):
    """Nobody (or nobody of this area's roles) is signed in: go to the login page."""

    def __init__(self, area: Area):
        self.area = area


class MustChangePassword(Exception):
    """The account still has its one-time password."""

    def __init__(self, area: Area):
        self.area = area


class CsrfRejected(Exception):
    """A form arrived without this session's CSRF token."""


class NotFoundPage(Exception):
    """Something that does not exist, or that this login may not see."""

    def __init__(self, title: str = "", message: str = ""):
        self.title = title
        self.message = message


def login_dependency(area: Area) -> Callable[..., logins.WebLogin]:
    """Return the dependency that yields the signed-in account of ``area`` (in its language)."""

    def current_login(request: Request, runtime: RuntimeDep) -> logins.WebLogin:
        # Dependencies and endpoints may run in different threads: the language travels on
        # the request, and is applied where a page is rendered.
        request.state.language = request.cookies.get(LANGUAGE_COOKIE)
        cookie = request.cookies.get(area.cookie)
        if not cookie:
            raise NeedLogin(area)
        with runtime.factory() as session, session.begin():
            login = logins.resume(session=session, cookie=cookie)
        if login is None or login.caller.role not in area.roles:
            raise NeedLogin(area)
        request.state.language = login.language or request.state.language
        if login.must_change_password and not request.url.path.startswith(area.always_allowed):
            raise MustChangePassword(area)
        return login

    return current_login


def check_csrf(login: logins.WebLogin, token: str | None) -> None:
    """Refuse a form whose CSRF token is not this session's."""
    if not token or not hmac.compare_digest(token, login.csrf_token):
        raise CsrfRejected


def render(
    request: Request,
    template: str,
    login: logins.WebLogin | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page in the request's language with what every signed-in page needs."""
    language = i18n.use(getattr(request.state, "language", None))
    policy = request.app.state.runtime.policy
    names = {c.id: c.display_name(language) for c in policy.categories}
    return templates.TemplateResponse(
        request,
        template,
        {
            "category_name": lambda category_id: names.get(category_id, category_id),
            "login": login,
            "csrf_token": login.csrf_token if login else None,
            **context,
        },
        status_code=status_code,
    )


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def account_router(area: Area, login_type: Any) -> APIRouter:
    """The log-in, log-out, language and password pages of ``area``."""
    router = APIRouter(prefix=area.prefix, include_in_schema=False)

    def page(
        request: Request,
        name: str,
        login: logins.WebLogin | None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        return render(request, f"account/{name}", login, status, area=area, **context)

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
        """Check the password; open a session or say why not (not saying which part was wrong)."""
        request.state.language = request.cookies.get(LANGUAGE_COOKIE) or "id"
        i18n.use(request.state.language)
        expected = request.cookies.get(LOGIN_CSRF_COOKIE)
        if not expected or not secrets.compare_digest(expected, login_token):
            return login_form(request, error=i18n.gettext("The form expired. Please try again."))
        outcome = logins.login(
            factory=runtime.factory, email=email, password=password, roles=area.roles
        )
        if isinstance(outcome, logins.LoginRefused):
            message = i18n.gettext(
                "Wrong e-mail or password. After 5 failed attempts an account waits 15 minutes."
            )
            response = login_form(request, error=message)
            response.status_code = 401
            return response
        cookie, login = outcome
        home = area.home_of(login.caller.role)
        target = f"{area.prefix}/password" if login.must_change_password else home
        redirect = RedirectResponse(target, status_code=303)
        redirect.set_cookie(
            area.cookie, cookie, httponly=True, samesite="lax", secure=_secure(request)
        )
        redirect.delete_cookie(LOGIN_CSRF_COOKIE)
        return redirect

    @router.post("/logout")
    def logout(
        request: Request,
        runtime: RuntimeDep,
        login: login_type,
        csrf_token: Annotated[str, Form()] = "",
    ) -> Response:
        """End the session."""
        check_csrf(login, csrf_token)
        with runtime.factory() as session, session.begin():
            logins.logout(session=session, cookie=request.cookies.get(area.cookie, ""))
        response = RedirectResponse(f"{area.prefix}/login", status_code=303)
        response.delete_cookie(area.cookie)
        return response

    @router.post("/language")
    def choose_language(
        runtime: RuntimeDep,
        login: login_type,
        language: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        back: Annotated[str, Form()] = "",
    ) -> Response:
        """Switch the language and remember it."""
        check_csrf(login, csrf_token)
        chosen = language if language in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
        with runtime.factory() as session, session.begin():
            logins.set_language(session=session, caller=login.caller, language=chosen)
        target = back if back.startswith(f"{area.prefix}/") else area.home_of(login.caller.role)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(LANGUAGE_COOKIE, chosen, samesite="lax")
        return response

    @router.get("/password", response_class=HTMLResponse)
    def password_form(request: Request, login: login_type) -> HTMLResponse:
        """Show the change-password form (compulsory after a one-time password)."""
        return page(request, "password.html", login)

    @router.post("/password", response_class=HTMLResponse)
    def password_submit(
        request: Request,
        runtime: RuntimeDep,
        login: login_type,
        current: Annotated[str, Form(max_length=256)] = "",
        new: Annotated[str, Form(max_length=300)] = "",
        repeat: Annotated[str, Form(max_length=300)] = "",
        csrf_token: Annotated[str, Form()] = "",
    ) -> Response:
        """Change the password."""
        check_csrf(login, csrf_token)
        try:
            with runtime.factory() as session, session.begin():
                cookie = logins.change_password(
                    session=session, caller=login.caller, current=current, new=new, repeat=repeat
                )
        except InvalidInput as exc:
            return page(request, "password.html", login, 422, error=exc.message, field=exc.field)
        redirect = RedirectResponse(area.home_of(login.caller.role), status_code=303)
        redirect.set_cookie(
            area.cookie, cookie, httponly=True, samesite="lax", secure=_secure(request)
        )
        return redirect

    @router.get("", response_class=HTMLResponse)
    def home(login: login_type) -> Response:
        """Go to the area's first page."""
        return RedirectResponse(area.home_of(login.caller.role), status_code=303)

    return router


def _redirect(request: Request, to: str) -> Response:
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": to})
    return RedirectResponse(to, status_code=303)


def install(app: FastAPI) -> None:
    """Register the redirects and refusals of the signed-in areas on ``app``."""

    @app.exception_handler(NeedLogin)
    async def _login(request: Request, exc: NeedLogin) -> Response:
        return _redirect(request, f"{exc.area.prefix}/login")

    @app.exception_handler(MustChangePassword)
    async def _password(request: Request, exc: MustChangePassword) -> Response:
        return _redirect(request, f"{exc.area.prefix}/password")

    @app.exception_handler(NotFoundPage)
    async def _missing(request: Request, exc: NotFoundPage) -> Response:
        i18n.use(getattr(request.state, "language", None))
        return templates.TemplateResponse(
            request,
            "error.html",
            {
                "title": exc.title or i18n.gettext("Report not found"),
                "message": exc.message
                or i18n.gettext("There is no such report among your organisation's."),
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
