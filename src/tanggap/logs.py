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
        "phone",
        "phone_number",
        "author_id",
        "reporter_id",
        "user_id",
        "platform_user_id",
        "client",
        "client_addr",
        "ip",
    }
)
# SQLAlchemy appends a failed statement's values to its error; PostgreSQL names the
# conflicting values in a DETAIL line ("Key (name)=(...) already exists").
_SQL_PARAMETERS = re.compile(
    r"\[parameters: .*?\](?=\n\(Background on this error)|\[parameters: [^\n]*", re.S
)
_DATABASE_DETAIL = re.compile(r"^(\s*DETAIL:).*$", re.M)
# An IPv4 address, or an IPv6 one: four groups or more, or a "::" (so "12:30:05" stays a time).
_IP_ADDRESS = re.compile(
    r"(?<![\w.:])(?:(?:\d{1,3}\.){3}\d{1,3}(?![\w.])"
    r"|(?:(?:[0-9A-Fa-f]{1,4}:){3,7}[0-9A-Fa-f]{1,4}"
    r"|(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4})*)?::(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4})*)?)"
    r"(?![\w.:]))"
)

# uvicorn's loggers as uvicorn sets them up, except that the access line leaves out the client's
# address: a viewer's, a flagger's or a platform's IP address is personal data Tanggap never keeps.
UVICORN_LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "default": {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s"},
        "access": {
            "()": "uvicorn.logging.AccessFormatter",
            "fmt": '%(levelprefix)s "%(request_line)s" %(status_code)s',
        },
    },
    "handlers": {
        "default": {
            "formatter": "default",
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
        },
        "access": {
            "formatter": "access",
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
        },
    },
    "loggers": {
        "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}


def scrub(text: str) -> str:
    """Return ``text`` without the SQL parameters, database details and IP addresses it may
    quote."""
    text = _SQL_PARAMETERS.sub(f"[parameters: {REDACTED}]", text)
    text = _DATABASE_DETAIL.sub(rf"\1 {REDACTED}", text)
    return _IP_ADDRESS.sub(REDACTED, text)


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Blank secret-named fields and scrub SQL parameters from every text of a log event."""
    for key, value in event.items():
        if key.lower() in SECRET_KEYS:
            event[key] = REDACTED
        elif isinstance(value, str):
            event[key] = scrub(value)
    return event


class _Stderr:
    """The process's standard error as it is at each write, not as it was when logging was set
    up: a command run in-process (a test's runner) swaps ``sys.stderr`` and closes its own."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class Scrubbing(logging.Filter):
    """Scrub every standard-library log line the way ``redact`` scrubs structured ones."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        return True


def configure(level: str = "INFO") -> None:
    """Send structlog and standard logging output to stderr at ``level``."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    logging.basicConfig(stream=sys.stderr, level=numeric, format="%(message)s")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, Scrubbing) for f in handler.filters):
            handler.addFilter(Scrubbing())
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
        # One write a line, newline included: a standard-library line another thread writes
        # meanwhile cannot land inside it (print would write the newline apart).
        logger_factory=structlog.WriteLoggerFactory(file=_Stderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
