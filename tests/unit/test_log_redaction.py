"""Logs never hold an IP address, a platform user's id or a phone number, whoever logs them."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest
import structlog

from tanggap import logs
from tests.logging_state import kept_logging


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("client 127.0.0.3:51234 - POST /v1/posts", "client [redacted]:51234 - POST /v1/posts"),
        ("from 2001:db8::7 and ::1", "from [redacted] and [redacted]"),
        ("peer ('10.1.2.3', 443)", "peer ('[redacted]', 443)"),
        ("fe80:0:0:0:1:2:3:4", "[redacted]"),
        # Not addresses: times, versions, module paths, dotted numbers of another length.
        ("at 15:30:56 UTC", "at 15:30:56 UTC"),
        ("2026-12-03T15:30:56.120Z", "2026-12-03T15:30:56.120Z"),
        ("nats-server 2.10.1", "nats-server 2.10.1"),
        ("tanggap.asgi:app", "tanggap.asgi:app"),
        ("1.2.3.4.5", "1.2.3.4.5"),
    ],
)
def test_ip_addresses_are_scrubbed_from_any_text(line: str, kept: str) -> None:
    assert logs.scrub(line) == kept


def test_fields_named_for_personal_data_are_blanked() -> None:
    event = logs.redact(
        None,
        "info",
        {
            "event": "x",
            "author_id": 7770019931,
            "reporter_id": "8880029942",
            "phone_number": "+6281299887766",
            "client_addr": "127.0.0.3",
            "channel": "jakartainfo",
        },
    )
    assert event["channel"] == "jakartainfo"
    for key in ("author_id", "reporter_id", "phone_number", "client_addr"):
        assert event[key] == logs.REDACTED


def test_standard_library_lines_are_scrubbed_too() -> None:
    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, "to %s: %s", ("10.0.0.9", 200), None
    )
    assert logs.Scrubbing().filter(record)
    assert record.getMessage() == "to [redacted]: 200"


def test_the_access_log_names_no_client() -> None:
    access = logs.UVICORN_LOG_CONFIG["formatters"]["access"]["fmt"]
    assert "client_addr" not in access and "request_line" in access


def test_logs_go_to_standard_error_as_it_is_when_they_are_written() -> None:
    # A command run in-process (a test's runner) swaps sys.stderr and closes its own afterwards:
    # a log line written later must reach the stream in place then, not the closed one.
    before = sys.stderr
    first, second = io.StringIO(), io.StringIO()
    with kept_logging():
        try:
            sys.stderr = first
            logs.configure("INFO")
            first.close()
            sys.stderr = second
            structlog.get_logger("test").info("after.the.swap")
        finally:
            sys.stderr = before
    assert "after.the.swap" in second.getvalue()


class Writes(io.StringIO):
    """Standard error that keeps each ``write`` call apart."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def write(self, text: str) -> int:
        self.calls.append(text)
        return super().write(text)


def test_a_structured_line_reaches_standard_error_in_one_write() -> None:
    # Another thread's standard-library line (httpx's request log, say) would otherwise land
    # between a JSON line and its newline, and neither line would read back.
    before = sys.stderr
    stream = Writes()
    with kept_logging():
        try:
            sys.stderr = stream
            logs.configure("INFO")
            structlog.get_logger("test").info("dispatcher.round", done=3)
        finally:
            sys.stderr = before
    assert len(stream.calls) == 1 and stream.calls[0].endswith("\n")
    assert json.loads(stream.calls[0])["done"] == 3
