"""FastAPI dependencies: the runtime, a session per request, the authenticated caller."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from tanggap.auth import service as auth
from tanggap.auth.schemas import Caller, Role
from tanggap.errors import Forbidden, TanggapError
from tanggap.runtime import Runtime


class Unauthorized(TanggapError):
    """No usable bearer token."""

    status_code = 401
    code = "unauthorized"


def get_runtime(request: Request) -> Runtime:
    """Return the runtime the app was built with."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """Open a session for the request; the router commits, anything uncommitted is rolled back."""
    with runtime.factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized(
            "missing Authorization header: send 'Bearer <token>'", field="Authorization"
        )
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization must be 'Bearer <token>'", field="Authorization")
    return token.strip()


@dataclass(frozen=True)
class Require:
    """A dependency that admits callers with one of ``roles`` and returns who they are; the
    OpenAPI document reads ``roles`` to declare the route's 401 and 403."""

    roles: tuple[Role, ...]

    def __call__(self, request: Request, runtime: RuntimeDep) -> Caller:
        """Authenticate the bearer token and check its role."""
        token = _bearer(request)
        with runtime.factory() as session:
            caller = auth.authenticate(session=session, token=token)
        if caller is None:
            raise Unauthorized("unknown or revoked token", field="Authorization")
        if caller.role not in self.roles:
            allowed = " or ".join(self.roles)
            raise Forbidden(f"this needs a {allowed} token; yours is a {caller.role} token")
        request.state.caller = caller
        return caller


def require(*roles: Role) -> Require:
    """Return a dependency that admits callers with one of ``roles`` and returns who they are."""
    return Require(roles)


Platform = Annotated[Caller, Depends(require("platform"))]
Reporter = Annotated[Caller, Depends(require("flagger", "platform"))]
AnyCaller = Annotated[Caller, Depends(require("platform", "flagger", "reviewer", "lead", "admin"))]
Staff = Annotated[Caller, Depends(require("reviewer", "lead", "admin"))]
Lead = Annotated[Caller, Depends(require("lead", "admin"))]
Legal = Annotated[Caller, Depends(require("legal", "admin"))]
