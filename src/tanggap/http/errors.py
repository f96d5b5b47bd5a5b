"""Turn every failure into a JSON error that names the field; never a stack trace."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tanggap.errors import TanggapError
from tanggap.validation import validation_details

log = structlog.get_logger(__name__)


def error_body(
    code: str, message: str, field: str | None = None, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Shape the one error format the API uses."""
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    if details:
        error["details"] = details
    return {"error": error}


def install(app: FastAPI) -> None:
    """Register the error handlers on ``app``."""

    @app.exception_handler(TanggapError)
    async def _domain(_: Request, exc: TanggapError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        message = f"{exc.field}: {exc.message}" if exc.field else exc.message
        return JSONResponse(
            error_body(exc.code, message, exc.field), status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = validation_details(list(exc.errors()))
        first = details[0] if details else {"field": "body", "message": "invalid request"}
        return JSONResponse(
            error_body(
                "invalid_input", f"{first['field']}: {first['message']}", first["field"], details
            ),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", None)
        log.exception("request.failed", path=request.url.path, request_id=request_id)
        return JSONResponse(
            error_body("internal_error", f"internal error; quote request id {request_id}"),
            status_code=500,
        )
