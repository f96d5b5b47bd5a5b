"""Turn every failure into a JSON error that names the field; never a stack trace."""

from __future__ import annotations

import re
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tanggap.errors import TanggapError

log = structlog.get_logger(__name__)

_FIELD_PREFIX = re.compile(r"^(?:Value error, )?([A-Za-z_][A-Za-z0-9_.]*): (.+)$", re.S)
_LOCATION_ROOTS = {"body", "query", "path", "header"}


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


def _field_of(loc: tuple[Any, ...], message: str) -> tuple[str, str]:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _LOCATION_ROOTS:
        parts = parts[1:]
    # Pydantic names union members and wrappers in the location; the caller only knows fields.
    parts = [
        p
        for p in parts
        if not p.startswith(("function-", "constrained-", "str", "int", "TargetRef"))
    ]
    field = ".".join(parts)
    match = _FIELD_PREFIX.match(message)
    if match and not field:
        return match.group(1), match.group(2)
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return field or "body", message


def validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turn pydantic errors into ``[{field, message}]``."""
    details = []
    for err in errors:
        if err.get("type") == "json_invalid":
            details.append({"field": "body", "message": "the body is not valid JSON"})
            continue
        if err.get("type") == "missing" and tuple(err.get("loc", ())) == ("body",):
            details.append({"field": "body", "message": "a JSON body is required"})
            continue
        field, message = _field_of(tuple(err.get("loc", ())), str(err.get("msg", "invalid")))
        if err.get("type") == "extra_forbidden":
            message = "unknown field"
        details.append({"field": field, "message": message})
    return details


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
