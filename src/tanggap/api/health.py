"""Liveness and readiness."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from sqlalchemy import text

from tanggap.auth.schemas import Caller
from tanggap.db.migrate import pending
from tanggap.gauges import DatabaseGauges
from tanggap.http.deps import RuntimeDep, require
from tanggap.metrics import exposition

router = APIRouter(tags=["health"])


class Readiness(BaseModel):
    """Whether the process can serve: ``ok``, or ``unavailable`` and why."""

    status: str
    database: str


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Answer while the process is up."""
    return {"status": "ok"}


@router.get("/metrics", include_in_schema=False)
def metrics(caller: Annotated[Caller, Depends(require("admin"))], runtime: RuntimeDep) -> Response:
    """Expose the Prometheus metrics: counters of this process (of every process in
    multiprocess mode) and gauges read from the database (an admin token: scrape with a bearer
    token)."""
    return Response(exposition([DatabaseGauges(runtime.factory)]), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "The database is not ready"}},
)
def readyz(runtime: RuntimeDep) -> JSONResponse:
    """Answer 200 when the database answers and is fully migrated, 503 otherwise."""
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        if pending(runtime.engine, runtime.settings.database_url):
            return JSONResponse(
                {"status": "unavailable", "database": "migrations pending: run tanggap db upgrade"},
                status_code=503,
            )
    except Exception as exc:
        return JSONResponse(
            {"status": "unavailable", "database": type(exc).__name__}, status_code=503
        )
    return JSONResponse({"status": "ok", "database": "ok"})
