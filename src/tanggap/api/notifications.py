"""HTTP: the webhook delivery log, for admins."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from tanggap.auth.schemas import Caller
from tanggap.http.deps import SessionDep, require
from tanggap.notify.log import delivery_log
from tanggap.notify.schemas import NotificationOut

router = APIRouter(prefix="/v1/notifications", tags=["operations"])
Admin = Annotated[Caller, Depends(require("admin"))]


@router.get("", response_model=list[NotificationOut])
def list_notifications(
    session: SessionDep,
    caller: Admin,
    org_id: uuid.UUID | None = None,
    state: Literal["pending", "delivered", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[NotificationOut]:
    """The delivery log: each webhook, its state and every attempt (status, error, time)."""
    return delivery_log(session=session, org_id=org_id, state=state, limit=limit)
