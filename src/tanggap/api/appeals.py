"""HTTP: appeals filed by the platform, and the statement of reasons per post."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse

from tanggap.appeals import service
from tanggap.appeals.schemas import AppealIn, AppealOut, StatementOfReasons
from tanggap.appeals.statement import statement
from tanggap.auth.schemas import Caller
from tanggap.errors import Conflict, NotFound
from tanggap.http import idempotent
from tanggap.http.deps import Platform, RuntimeDep, SessionDep, require
from tanggap.http.openapi import KEY_SCHEMA, answers
from tanggap.validation import Handle, MessageId

router = APIRouter(tags=["appeals"])
PlatformOrStaff = Annotated[Caller, Depends(require("platform", "reviewer", "lead", "admin"))]


@router.post(
    "/v1/appeals",
    response_model=AppealOut,
    status_code=201,
    responses=answers(NotFound, Conflict),
)
def file_appeal(
    data: AppealIn,
    session: SessionDep,
    caller: Platform,
    runtime: RuntimeDep,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", json_schema_extra=KEY_SCHEMA)
    ] = None,
) -> JSONResponse:
    """File an appeal on behalf of a post's owner; a reviewer other than the one who decided
    takes it. Retries with the same ``Idempotency-Key`` get the first answer."""

    def work() -> tuple[int, dict[str, Any]]:
        appeal = service.file(session=session, caller=caller, data=data, policy=runtime.policy)
        return 201, service.appeal_out(appeal).model_dump(mode="json")

    status, body, fresh = idempotent.run(
        session=session,
        caller=caller,
        endpoint="POST /v1/appeals",
        key=idempotency_key,
        payload=data.model_dump(mode="json"),
        secret_key=runtime.settings.secret_key,
        work=work,
    )
    return idempotent.response(status, body, fresh)


@router.get("/v1/appeals/{appeal_id}", response_model=AppealOut)
def get_appeal(
    appeal_id: uuid.UUID, session: SessionDep, caller: PlatformOrStaff, runtime: RuntimeDep
) -> AppealOut:
    """Show where an appeal you filed (or may review) stands."""
    appeal = service.get_visible(
        session=session, caller=caller, appeal_id=appeal_id, policy=runtime.policy
    )
    return service.appeal_out(appeal)


@router.get("/v1/posts/{channel}/{message_id}/statement", response_model=StatementOfReasons)
def statement_of_reasons(
    channel: Handle,
    message_id: MessageId,
    session: SessionDep,
    caller: PlatformOrStaff,
    runtime: RuntimeDep,
) -> StatementOfReasons:
    """The statement of reasons (EU DSA Art. 17) for the decision standing on a post."""
    return statement(
        session=session,
        caller=caller,
        channel=channel,
        message_id=message_id,
        policy=runtime.policy,
    )
