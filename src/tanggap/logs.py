"""Structured logs to stderr (stdout stays for what commands print)."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

REDACTED = "[redacted]"
# Values a log must never hold, whatever the code that logs them: request bodies, SQL
# parameters, credentials, personal contact data.
SECRET_KEYS = frozenset(
    {
        "body",
        "params",
        "parameters",
        "password",
        "secret",
        "token",
        "authorization",
        "cookie",
        "email",
        # a platform user's own id (an erasure request): only its pseudonym is ever kept
        "platform_user_id",
    }
)
# SQLAlchemy appends a failed statement's values to its error; PostgreSQL names the
# conflicting values in a DETAIL line ("Key (name)=(...) already exists").
_SQL_PARAMETERS = re.compile(
    r"\[parameters: .*?\](?=\n\(Background on this error)|\[parameters: [^\n]*", re.S
)
_DATABASE_DETAIL = re.compile(r"^(\s*DETAIL:).*$", re.M)


def scrub(text: str) -> str:
    """Return ``text`` without the SQL parameters and database details it may quote."""
    text = _SQL_PARAMETERS.sub(f"[parameters: {REDACTED}]", text)
    return _DATABASE_DETAIL.sub(rf"\1 {REDACTED}", text)


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Blank secret-named fields and scrub SQL parameters from every text of a log event."""
    for key, value in event.items():
        if key.lower() in SECRET_KEYS:
            event[key] = REDACTED
        elif isinstance(value, str):
            event[key] = scrub(value)
    return event


def configure(level: str = "INFO") -> None:
    """Send structlog and standard logging output to stderr at ``level``."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    logging.basicConfig(stream=sys.stderr, level=numeric, format="%(message)s")
    logging.getLogger("alembic").setLevel(max(numeric, logging.WARNING))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact,
            structlog.dev.ConsoleRenderer(
                colors=False, exception_formatter=structlog.dev.plain_traceback
            )
            if sys.stderr.isatty()
            else structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
