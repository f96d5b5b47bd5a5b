"""HTTP: erasure of one platform user's personal data (docs/retention.md)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse

from tanggap.auth.schemas import Caller
from tanggap.errors import Conflict
from tanggap.http import idempotent
from tanggap.http.deps import RuntimeDep, SessionDep, require
from tanggap.http.openapi import KEY_SCHEMA, answers
from tanggap.retention.erasure import erase_author
from tanggap.retention.schemas import ErasureIn, ErasureOut

router = APIRouter(tags=["erasures"])
PlatformOrAdmin = Annotated[Caller, Depends(require("platform", "admin"))]


@router.post("/v1/erasures", response_model=ErasureOut, responses=answers(Conflict))
def erase(
    data: ErasureIn,
    session: SessionDep,
    caller: PlatformOrAdmin,
    runtime: RuntimeDep,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", json_schema_extra=KEY_SCHEMA)
    ] = None,
) -> JSONResponse:
    """Erase what Tanggap holds of one platform user, but what a decision still needs; answer
    what was erased, in counts. Asking again erases nothing more."""

    def work() -> tuple[int, dict[str, Any]]:
        erased = erase_author(
            session=session,
            keyring=runtime.settings.keyring,
            platform_user_id=str(data.platform_user_id),
            actor=caller.audit_actor,
        )
        return 200, ErasureOut(**asdict(erased)).model_dump(mode="json")

    status, body, fresh = idempotent.run(
        session=session,
        caller=caller,
        endpoint="POST /v1/erasures",
        key=idempotency_key,
        payload=data.model_dump(mode="json"),
        secret_key=runtime.settings.secret_key,
        work=work,
    )
    return idempotent.response(status, body, fresh)
