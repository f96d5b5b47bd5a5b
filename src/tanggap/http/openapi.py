"""The OpenAPI document declares every answer an operation can give, in the one error shape.

Most answers follow from the route itself: a ``require(...)`` dependency can answer 401 (and 403
when some role is turned away), inputs can answer 422, a path parameter names something looked up
(404), a body can be too slow to arrive (408), too large (413) or not JSON (415). What only the
domain knows (a clash, a role refused further down, a full queue) the route names with
``answers(...)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from tanggap.auth.schemas import ROLES
from tanggap.errors import TanggapError
from tanggap.http.deps import Require, Unauthorized
from tanggap.idempotency.service import MAX_KEY_LENGTH
from tanggap.validation import MAX_BIGINT, POLICY_CATEGORY

ENVELOPE = "ErrorEnvelope"
# What ``idempotency.check_key`` accepts: 1-255 printable ASCII characters.
KEY_SCHEMA: dict[str, Any] = {"pattern": f"^[\\x20-\\x7e]{{1,{MAX_KEY_LENGTH}}}$"}
SECURITY = "bearer"
DESCRIPTIONS = {
    400: "Bad request",
    401: "No usable bearer token",
    403: "The caller's role may not do this",
    404: "The thing named does not exist, or the caller may not know that it does",
    408: "The body did not arrive in time; the connection is closed",
    409: "The request clashes with the current state",
    413: "The body is larger than the limit",
    415: "The body is not JSON: send Content-Type: application/json",
    422: "A field's value is not acceptable; the error names it",
    503: "Cannot take this now; retry later",
}


class ErrorDetail(BaseModel):
    """One field that was refused."""

    field: str
    message: str


class ErrorBody(BaseModel):
    """What went wrong, naming the field when one is to blame."""

    code: str
    message: str
    field: str | None = None
    details: list[ErrorDetail] | None = None


class ErrorEnvelope(BaseModel):
    """The one error format of the API."""

    error: ErrorBody


def answers(*errors: type[TanggapError] | int) -> dict[int | str, dict[str, Any]]:
    """Declare the error answers (errors or statuses) a route gives beyond those its signature
    implies."""
    statuses = [error if isinstance(error, int) else error.status_code for error in errors]
    return {status: {"description": DESCRIPTIONS[status]} for status in statuses}


def admitted_roles(dependant: Dependant) -> tuple[str, ...] | None:
    """Return the roles a route admits, or None for a route open to anyone."""
    if isinstance(dependant.call, Require):
        return dependant.call.roles
    for sub in dependant.dependencies:
        found = admitted_roles(sub)
        if found is not None:
            return found
    return None


def _implied(route: APIRoute) -> set[int]:
    dependant = route.dependant
    statuses: set[int] = set()
    roles = admitted_roles(dependant)
    if roles is not None:
        statuses.add(Unauthorized.status_code)
        if set(roles) != set(ROLES):
            statuses.add(403)
    if dependant.path_params:
        statuses.add(404)
    if route.body_field is not None:
        statuses.update({408, 413, 415})
    inputs = (
        dependant.path_params,
        dependant.query_params,
        dependant.header_params,
        dependant.cookie_params,
        dependant.body_params,
    )
    if any(inputs):
        statuses.add(422)
    return statuses


def _declare(operation: dict[str, Any], route: APIRoute) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if admitted_roles(route.dependant) is not None:
        operation["security"] = [{SECURITY: []}]
    for implied in _implied(route):
        responses.setdefault(str(implied), {"description": DESCRIPTIONS[implied]})
    envelope = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ENVELOPE}"}}}
    for status, response in responses.items():
        # FastAPI's own 422 describes its error shape, not ours: replace it.
        if status.startswith(("4", "5")) and ("content" not in response or status == "422"):
            response["description"] = DESCRIPTIONS.get(int(status), response["description"])
            response["content"] = envelope


def _exact_bounds(node: Any) -> None:
    """Give numeric bounds back as integers: FastAPI's OpenAPI model keeps them as floats, which
    turns the largest BIGINT (2**63 - 1) into 2**63."""
    if isinstance(node, list):
        for item in node:
            _exact_bounds(item)
    if not isinstance(node, dict):
        return
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        value = node.get(key)
        if isinstance(value, float) and value.is_integer():
            node[key] = MAX_BIGINT if value == float(MAX_BIGINT) else int(value)
    for value in node.values():
        _exact_bounds(value)


def _list_categories(node: Any, categories: list[str]) -> None:
    """Replace each policy-category marker with the categories the policy knows."""
    if isinstance(node, list):
        for item in node:
            _list_categories(item, categories)
    if not isinstance(node, dict):
        return
    if node.pop(POLICY_CATEGORY, False):
        nullable = any(option.get("type") == "null" for option in node.get("anyOf", []))
        node["enum"] = [*categories, None] if nullable else list(categories)
    for value in node.values():
        _list_categories(value, categories)


def install(app: FastAPI, routers: Iterable[APIRouter], *, categories: Iterable[str]) -> None:
    """Build ``app``'s OpenAPI document with every answer of the ``routers`` (included in
    ``app`` without a prefix) declared, and the policy's ``categories`` listed."""
    known = list(categories)
    routes = [route for router in routers for route in router.routes]

    def document() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        for route in routes:
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            for method in route.methods or ():
                _declare(schema["paths"][route.path_format][method.lower()], route)
        _list_categories(schema, known)
        _exact_bounds(schema)
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        envelope = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(envelope.pop("$defs", {}))
        schemas[ENVELOPE] = envelope
        components["securitySchemes"] = {
            SECURITY: {"type": "http", "scheme": "bearer", "description": "An API token"}
        }
        app.openapi_schema = schema
        return schema

    app.openapi = document  # type: ignore[method-assign]


def methods_at(document: dict[str, Any], path: str) -> tuple[set[str], set[str]]:
    """Return the methods the document declares for ``path``: under any matching template, and
    under a template without parameters that names ``path`` exactly."""
    matching: set[str] = set()
    exact: set[str] = set()
    for template, operations in document.get("paths", {}).items():
        methods = {method.upper() for method in operations}
        if template == path:
            exact |= methods
        if re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)), path):
            matching |= methods
    return matching, exact
