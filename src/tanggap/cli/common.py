"""What every command shares: settings, the runtime, one transaction, clear failures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.orm import Session

from tanggap import logs
from tanggap.audit.signing import CheckpointKeyError, load_key
from tanggap.config import Settings
from tanggap.detectors.rules import RuleError
from tanggap.errors import TanggapError
from tanggap.policy.service import PolicyError
from tanggap.runtime import Runtime, build_runtime

CLI_ACTOR = "cli"


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` to stderr and exit non-zero."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def load_settings() -> Settings:
    """Read settings from the environment, or exit with the reason they are refused."""
    try:
        settings = Settings()
    except ValidationError as exc:
        fail("; ".join(_setting_error(err) for err in exc.errors()))
    logs.configure(settings.log_level)
    return settings


def checkpoint_key(settings: Settings) -> Ed25519PrivateKey:
    """Load the audit checkpoint key, or exit saying which setting to fix."""
    try:
        return load_key(settings)
    except CheckpointKeyError as exc:
        fail(str(exc))


def _setting_error(err: ErrorDetails) -> str:
    """Name the environment variable behind a refused setting (a check of several has none)."""
    message = err["msg"].removeprefix("Value error, ")
    if not err["loc"]:
        return message
    return f"TANGGAP_{str(err['loc'][0]).upper()}: {message}"


@contextmanager
def runtime_for(settings: Settings | None = None) -> Iterator[Runtime]:
    """Build the runtime for a command and release it afterwards."""
    try:
        runtime = build_runtime(settings or load_settings())
    except (PolicyError, RuleError) as exc:
        fail(str(exc))
    try:
        yield runtime
    finally:
        runtime.close()


@contextmanager
def transaction(runtime: Runtime) -> Iterator[Session]:
    """One transaction for a command; domain errors become a message and exit code 2."""
    try:
        with runtime.factory() as session, session.begin():
            yield session
    except TanggapError as exc:
        fail(f"{exc.field}: {exc.message}" if exc.field else exc.message, code=2)


def option_error(exc: ValidationError) -> NoReturn:
    """Exit naming the command-line option behind the first invalid field."""
    err = exc.errors()[0]
    field = str(err["loc"][0]) if err["loc"] else "input"
    fail(f"--{field.replace('_', '-')}: {err['msg'].removeprefix('Value error, ')}", code=2)
