"""HTTP: submit reports (one or many), list them, follow one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from tanggap.errors import Conflict
from tanggap.http import idempotent
from tanggap.http.deps import AnyCaller, Reporter, RuntimeDep, SessionDep
from tanggap.http.openapi import KEY_SCHEMA, answers
from tanggap.metrics import REPORTS_RECEIVED
from tanggap.reports import bulk, intake, service
from tanggap.reports.present import present
from tanggap.reports.schemas import (
    REPORT_STATUSES,
    BulkIn,
    BulkOut,
    ReportIn,
    ReportList,
    ReportOut,
    ReportReceipt,
)

router = APIRouter(prefix="/v1/reports", tags=["reports"])
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Retries with the same key get the first answer",
        json_schema_extra=KEY_SCHEMA,
    ),
]


@router.post(
    "",
    response_model=ReportReceipt,
    status_code=202,
    responses={
        200: {"model": ReportReceipt, "description": "The same reporter's open report"},
        **answers(Conflict),
    },
)
def submit_report(
    data: ReportIn,
    session: SessionDep,
    caller: Reporter,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Report a public post; retries with the same ``Idempotency-Key`` get the first answer."""
    accepted: list[ReportIn] = []

    def work() -> tuple[int, dict[str, Any]]:
        taken = intake.submit(
            session=session,
            caller=caller,
            data=data,
            policy=runtime.policy,
            keyring=runtime.settings.keyring,
            notifier=runtime.notifier,
        )
        accepted[:] = [] if taken.duplicate else [data]
        receipt = ReportReceipt(
            report_id=taken.report.id,
            case_id=taken.report.case_id,
            status=taken.report.status,
            deadline=taken.report.deadline,
            duplicate=taken.duplicate,
        )
        return (200 if taken.duplicate else 202), receipt.model_dump(mode="json")

    status, body, fresh = idempotent.run(
        session=session,
        caller=caller,
        endpoint="POST /v1/reports",
        key=idempotency_key,
        payload=data.model_dump(mode="json"),
        secret_key=runtime.settings.secret_key,
        work=work,
    )
    _count(accepted)
    return idempotent.response(status, body, fresh)


@router.post("/bulk", response_model=BulkOut, responses=answers(Conflict))
def submit_bulk(
    data: BulkIn,
    session: SessionDep,
    caller: Reporter,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Report up to 1,000 posts at once; every line gets its fate, valid lines are accepted."""
    accepted: list[ReportIn] = []

    def work() -> tuple[int, dict[str, Any]]:
        submitted = bulk.submit_many(
            session=session,
            caller=caller,
            lines=data.reports,
            policy=runtime.policy,
            keyring=runtime.settings.keyring,
            notifier=runtime.notifier,
        )
        accepted[:] = submitted.accepted
        return 200, BulkOut(results=submitted.lines).model_dump(mode="json", exclude_none=True)

    status, body, fresh = idempotent.run(
        session=session,
        caller=caller,
        endpoint="POST /v1/reports/bulk",
        key=idempotency_key,
        payload=data.model_dump(mode="json"),
        secret_key=runtime.settings.secret_key,
        work=work,
    )
    _count(accepted)
    return idempotent.response(status, body, fresh)


def _count(accepted: list[ReportIn]) -> None:
    # Counted after the commit, so a rolled-back attempt is not counted.
    for data in accepted:
        REPORTS_RECEIVED.labels(data.category, data.order_type).inc()


@router.get("", response_model=ReportList)
def list_reports(
    session: SessionDep,
    caller: AnyCaller,
    runtime: RuntimeDep,
    status: Annotated[
        list[str] | None, Query(json_schema_extra={"items": {"enum": list(REPORT_STATUSES)}})
    ] = None,
    since: Annotated[datetime | None, Query(description="Received at or after")] = None,
    until: Annotated[datetime | None, Query(description="Received before")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ReportList:
    """List the reports the caller may see (a flagger: its organisation's), newest first."""
    for value in status or []:
        if value not in REPORT_STATUSES:
            service.invalid_status(value)
    reports, total = service.list_visible(
        session=session,
        caller=caller,
        policy=runtime.policy,
        statuses=status,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return ReportList(
        reports=present(session=session, reports=reports), total=total, limit=limit, offset=offset
    )


@router.get("/{report_id}", response_model=ReportOut)
def get_report(
    report_id: uuid.UUID, session: SessionDep, caller: AnyCaller, runtime: RuntimeDep
) -> ReportOut:
    """Show a report's status and clock and, once decided, its outcome and public explanation."""
    report = service.get_visible(
        session=session, caller=caller, report_id=report_id, policy=runtime.policy
    )
    return present(session=session, reports=[report])[0]
