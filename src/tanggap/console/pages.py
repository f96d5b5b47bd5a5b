"""What the console's pages share: rendering, the lease, finding a case one may see, the case
page itself and the forms posted from it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from tanggap.auth import logins
from tanggap.auth.schemas import LEAD_ROLES
from tanggap.banks import service as banks
from tanggap.cases import service as cases
from tanggap.cases.models import Case
from tanggap.console.session import ConsoleLogin
from tanggap.db.base import utcnow
from tanggap.errors import TanggapError
from tanggap.http.deps import RuntimeDep, SessionDep
from tanggap.review import case_page
from tanggap.reviewers import service as reviewers
from tanggap.runtime import Runtime
from tanggap.web import i18n
from tanggap.web.accounts import NotFoundPage, check_csrf, render


def page(
    request: Request, name: str, login: logins.WebLogin, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render a console page in the reviewer's language."""
    return render(request, f"console/{name}", login, status_code, **context)


def lease(runtime: Runtime) -> timedelta:
    """How long a claim from the console lasts."""
    return timedelta(seconds=runtime.settings.claim_lease_seconds)


def visible_case(session: Session, runtime: Runtime, login: logins.WebLogin, case_id: str) -> Case:
    """The case ``case_id`` among those the signed-in reviewer may see, or a not-found page."""
    try:
        skills = reviewers.skills_of(session=session, principal_id=login.caller.id)
        return cases.get(
            session=session, case_id=uuid.UUID(case_id), skills=skills, policy=runtime.policy
        )
    except (ValueError, TanggapError) as exc:
        raise NotFoundPage(
            i18n.gettext("Case not found"),
            i18n.gettext("There is no such case among those you may see."),
        ) from exc


def show_case(
    request: Request,
    session: Session,
    runtime: Runtime,
    login: logins.WebLogin,
    case: Case,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render the case page (it reads only: the page marks its threads read by a form)."""
    language = i18n.use(getattr(request.state, "language", None))
    shown = case_page.load(
        session=session,
        case=case,
        caller=login.caller,
        policy=runtime.policy,
        now=utcnow(),
        default_platform=runtime.settings.platform,
    )
    category_name = shown.category.display_name(language)
    templates = {
        outcome: texts.get(language, texts.get("en", "")).replace("{category}", category_name)
        for outcome, texts in runtime.policy.explanations.items()
    }
    return page(
        request,
        "case.html",
        login,
        status_code,
        d=shown,
        mine=shown.case.claimed_by_id == login.caller.id,
        templates=templates,
        banks=[
            bank
            for bank in banks.all_banks(session=session)
            if bank.policy == "review" or login.caller.role in LEAD_ROLES
        ],
        lease_seconds=runtime.settings.claim_lease_seconds,
        **context,
    )


@dataclass
class CaseForm:
    """A form posted from a case page: CSRF checked, the case found among those one may see."""

    request: Request
    session: Session
    runtime: Runtime
    login: logins.WebLogin
    case: Case

    def page(self, status_code: int, **context: Any) -> HTMLResponse:
        """The case page again, with what went wrong."""
        self.session.rollback()
        return show_case(
            self.request, self.session, self.runtime, self.login, self.case, status_code, **context
        )

    def back(self, suffix: str = "") -> RedirectResponse:
        """Back to the case page."""
        return RedirectResponse(f"/console/cases/{self.case.id}{suffix}", status_code=303)


def case_form(
    request: Request,
    case_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    login: ConsoleLogin,
    csrf_token: Annotated[str, Form()] = "",
) -> CaseForm:
    """Check the form's CSRF token and find its case."""
    check_csrf(login, csrf_token)
    return CaseForm(
        request, session, runtime, login, visible_case(session, runtime, login, case_id)
    )


FormOnCase = Annotated[CaseForm, Depends(case_form)]


def error_of(exc: TanggapError) -> dict[str, str]:
    """A refusal as the case page shows it: the field and the message."""
    return {"field": exc.field or "", "message": exc.message}
