"""HTTP: the statements of reasons submitted to the EU Transparency Database, for admins."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tanggap.auth.schemas import Caller
from tanggap.errors import Conflict, InvalidInput, NotFound
from tanggap.eu_database import service
from tanggap.eu_database.schemas import EuStatementOut, Submission
from tanggap.http.deps import RuntimeDep, SessionDep, require
from tanggap.http.openapi import answers

router = APIRouter(prefix="/v1/eu-statements", tags=["operations"])
Admin = Annotated[Caller, Depends(require("admin"))]


@router.get("", response_model=list[EuStatementOut])
def list_statements(
    session: SessionDep,
    caller: Admin,
    state: Submission | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[EuStatementOut]:
    """List the submissions, newest first: pending, sent, or refused with each refused field
    and its reasons (``state=refused``)."""
    return service.submissions(session=session, state=state, limit=limit)


@router.post(
    "/{statement_id}/requeue",
    response_model=EuStatementOut,
    responses=answers(NotFound, Conflict, InvalidInput),
)
def requeue_statement(
    statement_id: uuid.UUID, session: SessionDep, caller: Admin, runtime: RuntimeDep
) -> EuStatementOut:
    """Build a refused statement again from its decision (after a fix) and queue it; one that
    still breaks the database's rules is refused again with 422, naming the field."""
    row = service.requeue(
        session=session,
        statement_id=statement_id,
        policy=runtime.policy,
        actor=caller.audit_actor,
    )
    session.commit()
    return service.statement_out(row)
