"""HTTP: submit a report, follow it."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tanggap.api.deps import AnyCaller, Reporter, RuntimeDep, SessionDep
from tanggap.auth.schemas import Caller
from tanggap.idempotency import service as idempotency
from tanggap.metrics import REPORTS_RECEIVED
from tanggap.posts.service import post_url
from tanggap.reports import service
from tanggap.reports.models import Report
from tanggap.reports.schemas import ReportIn, ReportOut, ReportReceipt, TargetOut
from tanggap.runtime import Runtime

router = APIRouter(prefix="/v1/reports", tags=["reports"])
ENDPOINT = "POST /v1/reports"


@router.post(
    "",
    response_model=ReportReceipt,
    status_code=202,
    responses={200: {"model": ReportReceipt, "description": "The same reporter's open report"}},
)
def submit_report(
    data: ReportIn,
    session: SessionDep,
    caller: Reporter,
    runtime: RuntimeDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    """Report a public post; retries with the same ``Idempotency-Key`` get the first answer."""
    if idempotency_key is None:
        status, body = _submit(session, caller, data, runtime)
        session.commit()
        _count(status, data)
        return JSONResponse(body, status_code=status)

    key = idempotency.check_key(idempotency_key)
    fingerprint = idempotency.request_hash(
        data.model_dump(mode="json"), secret_key=runtime.settings.secret_key
    )
    for _ in range(3):
        try:
            stored = idempotency.lookup(
                session=session,
                principal_id=caller.id,
                endpoint=ENDPOINT,
                key=key,
                fingerprint=fingerprint,
            )
            if stored is not None:
                session.rollback()
                return JSONResponse(
                    stored.response,
                    status_code=stored.status_code,
                    headers={"Idempotent-Replayed": "true"},
                )
            record = idempotency.reserve(
                session=session,
                principal_id=caller.id,
                endpoint=ENDPOINT,
                key=key,
                fingerprint=fingerprint,
            )
            status, body = _submit(session, caller, data, runtime)
            idempotency.store(record=record, status_code=status, response=body)
            session.commit()
            _count(status, data)
            return JSONResponse(body, status_code=status)
        except IntegrityError:
            # A concurrent request with the same key committed first: replay its answer.
            session.rollback()
    raise RuntimeError("idempotency key could be neither stored nor read back")


def _submit(
    session: Session, caller: Caller, data: ReportIn, runtime: Runtime
) -> tuple[int, dict[str, object]]:
    """Run intake; the answer is 202 for a new report, 200 for the caller's open duplicate."""
    intake = service.submit(
        session=session,
        caller=caller,
        data=data,
        policy=runtime.policy,
        secret_key=runtime.settings.secret_key,
        notifier=runtime.notifier,
    )
    receipt = ReportReceipt(
        report_id=intake.report.id,
        case_id=intake.report.case_id,
        status=intake.report.status,  # type: ignore[arg-type]
        deadline=intake.report.deadline,
        duplicate=intake.duplicate,
    )
    return (200 if intake.duplicate else 202), receipt.model_dump(mode="json")


def _count(status: int, data: ReportIn) -> None:
    if status == 202:  # a new report, committed
        REPORTS_RECEIVED.labels(data.category, data.order_type).inc()


@router.get("/{report_id}", response_model=ReportOut)
def get_report(report_id: uuid.UUID, session: SessionDep, caller: AnyCaller) -> ReportOut:
    """Show a report's status and, once decided, its outcome and public explanation."""
    report = service.get_visible(session=session, caller=caller, report_id=report_id)
    return report_out(session, report)


def report_out(session: Session, report: Report) -> ReportOut:
    """Shape a report for its reporter, with the decision's public part once there is one."""
    channel, message_id = service.target_of(session=session, report=report)
    out = ReportOut(
        report_id=report.id,
        case_id=report.case_id,
        status=report.status,  # type: ignore[arg-type]
        category=report.category,
        order_type=report.order_type,
        legal_basis=report.legal_basis,
        note=report.note,
        target=TargetOut(channel=channel, message_id=message_id, url=post_url(channel, message_id)),
        received_at=report.received_at,
        deadline=report.deadline,
        decided_at=report.decided_at,
    )
    decision = service.settling_decision(session=session, report=report)
    if decision is not None:
        out.outcome = decision.outcome
        out.countries = decision.countries or None
        out.ground = decision.ground
        out.policy_ref = decision.policy_ref
        out.explanation = decision.explanation
    return out
