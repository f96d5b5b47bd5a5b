"""The forms on a case page that decide it: a decision, an approval (four eyes), an escalation,
a reply to a flagger, the cascade to near-duplicates."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from tanggap.cases.schemas import ApprovalIn, DecisionIn, EscalationIn
from tanggap.console.pages import CaseForm, FormOnCase, error_of
from tanggap.errors import InvalidInput, TanggapError
from tanggap.reports import threads
from tanggap.reports.schemas import MessageIn
from tanggap.review import decisions
from tanggap.review.cascade import apply_to_near_duplicates as cover_near_duplicates
from tanggap.review.effects import DecisionResult
from tanggap.validation import validation_details
from tanggap.web import i18n

router = APIRouter(prefix="/console", include_in_schema=False)


def _deliver(form: CaseForm, result: DecisionResult) -> None:
    """Deliver a committed decision's actions at once; the outbox retries whatever fails."""
    form.runtime.deliver_now([a.id for a in result.actions], reason=str(result.decision.id))


@router.post("/cases/{case_id}/decide", response_class=HTMLResponse)
def decide(
    form: FormOnCase,
    outcome: Annotated[str, Form(max_length=20)] = "",
    countries: Annotated[str, Form(max_length=1000)] = "",
    ground: Annotated[str, Form(max_length=10)] = "",
    policy_ref: Annotated[str, Form(max_length=200)] = "",
    explanation: Annotated[str, Form(max_length=5000)] = "",
    add_to_bank: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Decide the case you hold; a wrong field shows the page again with the reason."""
    listed = [c.strip() for c in countries.replace(";", ",").split(",") if c.strip()]
    raw: dict[str, Any] = {
        "outcome": outcome,
        "countries": listed or None,
        "ground": ground or None,
        "policy_ref": policy_ref or None,
        "explanation": explanation,
        "add_to_bank": add_to_bank or None,
    }
    if outcome in ("no_violation", "uphold", "reverse"):
        raw["ground"] = raw["policy_ref"] = None
    try:
        result = decisions.decide_case(
            session=form.session,
            caller=form.login.caller,
            case_id=form.case.id,
            data=DecisionIn.model_validate(raw),
            policy=form.runtime.policy,
            notifier=form.runtime.notifier,
            default_platform=form.runtime.settings.platform,
        )
        form.session.commit()
    except ValidationError as exc:
        problem = validation_details([dict(e) for e in exc.errors()])[0]
        return form.page(422, error=problem, form=raw)
    except TanggapError as exc:
        return form.page(409 if exc.status_code == 409 else 422, error=error_of(exc), form=raw)
    _deliver(form, result)
    return form.back("?decided=1")


@router.post("/cases/{case_id}/approval")
def approve(
    form: FormOnCase,
    approve: Annotated[bool, Form()] = False,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Approve or reject a decision that needs four eyes."""
    try:
        result = decisions.approve_decision(
            session=form.session,
            caller=form.login.caller,
            case_id=form.case.id,
            data=ApprovalIn(approve=approve, note=note or None),
            policy=form.runtime.policy,
            notifier=form.runtime.notifier,
            default_platform=form.runtime.settings.platform,
        )
        form.session.commit()
    except TanggapError as exc:
        return form.page(exc.status_code, error=error_of(exc))
    _deliver(form, result)
    return form.back()


@router.post("/cases/{case_id}/escalate")
def escalate(form: FormOnCase, reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Hand the case to the leads with a reason."""
    try:
        decisions.escalate_case(
            session=form.session,
            caller=form.login.caller,
            case_id=form.case.id,
            data=EscalationIn(reason=reason),
            notifier=form.runtime.notifier,
        )
        form.session.commit()
    except (ValidationError, TanggapError) as exc:
        message = exc.message if isinstance(exc, TanggapError) else i18n.gettext("Say why.")
        return form.page(422, error={"field": "reason", "message": message})
    return RedirectResponse("/console/queues", status_code=303)


@router.post("/cases/{case_id}/reports/{report_id}/messages")
def reply(
    report_id: str, form: FormOnCase, body: Annotated[str, Form(max_length=6000)] = ""
) -> Response:
    """Write to the flagger on one report's thread."""
    try:
        threads.post_message(
            session=form.session,
            caller=form.login.caller,
            report_id=uuid.UUID(report_id),
            body=MessageIn(body=body).body,
            notifier=form.runtime.notifier,
            policy=form.runtime.policy,
            case_id=form.case.id,
        )
        form.session.commit()
    except (ValueError, ValidationError, TanggapError):
        form.session.rollback()
    return form.back(f"#report-{report_id}")


@router.post("/cases/{case_id}/cascade")
def cascade_apply(
    form: FormOnCase, link_ids: Annotated[list[str] | None, Form()] = None
) -> Response:
    """Let this case's removal cover the selected near-duplicates."""
    try:
        chosen = [uuid.UUID(value) for value in link_ids or []]
        if not chosen:
            raise InvalidInput("choose at least one post", field="link_ids")
        _, queued = cover_near_duplicates(
            session=form.session,
            caller=form.login.caller,
            case_id=form.case.id,
            link_ids=chosen,
            policy=form.runtime.policy,
            notifier=form.runtime.notifier,
        )
        form.session.commit()
    except ValueError:
        return form.page(422, error={"field": "link_ids", "message": "not a post of this list"})
    except TanggapError as exc:
        return form.page(exc.status_code, error=error_of(exc))
    form.runtime.deliver_now([a.id for a in queued], reason=str(form.case.id))
    return form.back("#near-duplicates")
