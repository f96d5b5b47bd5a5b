"""A body that does not arrive in time is answered 408 and cannot hold the server."""

from __future__ import annotations

import json
import select
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tanggap.config import Settings
from tanggap.runtime import Runtime
from tests.factories import Tokens, bearer, post_body, row_counts

BOUND = 1.0  # the body timeout of these tests, in seconds
# Socket timeouts are an upper bound only: an answer is expected long before.
PATIENCE = BOUND + 10
DECLARED = 1000
PARTIAL = b'{"channel": "beritakita", "message_id": 1, "te'
STALLED_AT_ONCE = 50


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test settings with a short body timeout."""
    return settings.model_copy(update={"body_timeout_seconds": BOUND})


def stall(base_url: str, token: str) -> socket.socket:
    """Open a connection, send the headers of a 1000-byte POST and part of its body; no more."""
    address = urlsplit(base_url)
    sock = socket.create_connection((address.hostname, address.port), timeout=PATIENCE)
    head = (
        "POST /v1/posts HTTP/1.1\r\n"
        f"Host: {address.netloc}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {DECLARED}\r\n"
        "\r\n"
    )
    sock.sendall(head.encode() + PARTIAL)
    return sock


def answer_of(sock: socket.socket) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Read the answer to the end of the connection: status, headers, JSON body."""
    received = b""
    while chunk := sock.recv(65536):  # ends only when the server closes the connection
        received += chunk
    sock.close()
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in header_lines)
    }
    return int(status_line.split()[1]), headers, json.loads(body)


def assert_timed_out(status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
    """Check a 408 in the error envelope that names the body and closes the connection."""
    assert status == 408, body
    assert headers["connection"] == "close"
    assert headers["content-type"] == "application/json"
    assert body["error"]["code"] == "body_timeout"
    assert body["error"]["field"] == "body"
    assert body["error"]["message"].startswith("body: ")


def test_a_stalled_body_is_answered_408_while_others_are_served(
    live_server: str, tokens: Tokens, runtime: Runtime
) -> None:
    before = row_counts(runtime)
    stalled = stall(live_server, tokens.platform)
    with httpx.Client(base_url=live_server, timeout=PATIENCE) as client:
        served = client.get("/v1/reports", headers=bearer(tokens.admin))
    assert served.status_code == 200, served.text
    assert_timed_out(*answer_of(stalled))
    assert row_counts(runtime) == before


def test_a_body_trickled_past_the_bound_is_answered_408(
    live_server: str, tokens: Tokens, runtime: Runtime
) -> None:
    before = row_counts(runtime)
    sock = stall(live_server, tokens.platform)
    trickled = 0
    # One byte every tenth of a second keeps the connection busy but never completes the body.
    while not select.select([sock], [], [], 0.1)[0]:
        sock.sendall(b" ")
        trickled += 1
        assert trickled < PATIENCE * 10, "no answer while the body trickled in"
    assert_timed_out(*answer_of(sock))
    assert trickled >= 2  # the answer came while bytes were still arriving
    assert row_counts(runtime) == before


def test_fifty_stalled_bodies_at_once_are_all_answered_and_the_server_still_serves(
    live_server: str, tokens: Tokens, runtime: Runtime
) -> None:
    before = row_counts(runtime)
    stalled = [stall(live_server, tokens.platform) for _ in range(STALLED_AT_ONCE)]
    answers = [answer_of(sock) for sock in stalled]
    for answer in answers:
        assert_timed_out(*answer)
    assert row_counts(runtime) == before
    with httpx.Client(base_url=live_server, timeout=PATIENCE) as client:
        posted = client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    assert posted.status_code == 201, posted.text
