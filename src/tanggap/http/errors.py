"""Turn every failure into a JSON error that names the field; never a stack trace."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from tanggap.errors import TanggapError
from tanggap.http.openapi import methods_at
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


def _not_json(request: Request) -> bool:
    """Whether a route that reads a JSON body was sent a body of another type."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return False
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        return False
    return bool(media_type) or request.headers.get("content-length", "0") != "0"


def _not_allowed(methods: set[str]) -> JSONResponse:
    """Answer 405 listing the methods the resource takes."""
    allowed = ", ".join(sorted(methods))
    return JSONResponse(
        error_body("method_not_allowed", f"this resource takes {allowed}"),
        status_code=405,
        headers={"Allow": allowed},
    )


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
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        _, exact = methods_at(app.openapi(), request.url.path)
        if exact and request.method not in exact:
            # A fixed resource (/v1/cases/next) also fits a template (/v1/cases/{case_id}) that
            # takes this method: the fixed one is meant, and it does not take the method.
            return _not_allowed(exact)
        if _not_json(request):
            return JSONResponse(
                error_body(
                    "unsupported_media_type",
                    "Content-Type: send the body as application/json",
                    "Content-Type",
                ),
                status_code=415,
            )
        details = validation_details(list(exc.errors()))
        first = details[0] if details else {"field": "body", "message": "invalid request"}
        return JSONResponse(
            error_body(
                "invalid_input", f"{first['field']}: {first['message']}", first["field"], details
            ),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 405:
            matching, exact = methods_at(app.openapi(), request.url.path)
            if exact or matching:
                return _not_allowed(exact or matching)
        if exc.status_code == 400:
            # FastAPI's one 400: a body it could not decode (not UTF-8, say).
            return JSONResponse(
                error_body("invalid_input", "body: the body is not valid JSON", "body"),
                status_code=422,
            )
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
