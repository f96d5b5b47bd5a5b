"""HTTP: the action outbox, for operators."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from tanggap.actions import service
from tanggap.actions.models import Action
from tanggap.actions.schemas import ActionDetail
from tanggap.auth.schemas import Caller
from tanggap.errors import Conflict
from tanggap.http.deps import SessionDep, require
from tanggap.http.openapi import answers

router = APIRouter(prefix="/v1/actions", tags=["operations"])
Admin = Annotated[Caller, Depends(require("admin"))]


def detail(action: Action) -> ActionDetail:
    """Shape an action for an operator."""
    return ActionDetail(
        action_id=action.id,
        case_id=action.case_id,
        decision_id=action.decision_id,
        kind=action.kind,
        state=action.state,
        attempts=action.attempts,
        next_attempt_at=action.next_attempt_at,
        last_error=action.last_error,
        created_at=action.created_at,
        delivered_at=action.delivered_at,
    )


@router.get("", response_model=list[ActionDetail])
def list_actions(
    session: SessionDep,
    caller: Admin,
    state: Literal["pending", "delivered", "failed", "cancelled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ActionDetail]:
    """List actions, newest first; ``state=failed`` shows what the platform never accepted."""
    return [detail(a) for a in service.list_actions(session=session, state=state, limit=limit)]


@router.post("/{action_id}/retry", response_model=ActionDetail, responses=answers(Conflict))
def retry_action(action_id: uuid.UUID, session: SessionDep, caller: Admin) -> ActionDetail:
    """Put a failed action back in the outbox; the dispatcher delivers it."""
    action = service.requeue(session=session, action_id=action_id, actor=caller.audit_actor)
    session.commit()
    return detail(action)
