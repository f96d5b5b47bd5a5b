"""The example receiver of docs/platform-http.md, run as its own process: it checks signatures,
applies each action once and answers a repeat with 409, which Tanggap counts as applied."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tanggap.config import Settings
from tanggap.db.base import utcnow
from tanggap.notify.signing import SIGNATURE_HEADER, sign
from tanggap.runtime import Runtime
from tests.factories import Tokens, bearer, decision_body, post_body, report_body

EXAMPLE = Path(__file__).parents[2] / "examples" / "platform_receiver.py"
SECRET = "example-secret-0123456789abcdef"


@pytest.fixture
def receiver() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The example, listening on a free port (it prints where once it listens)."""
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLE), "--port", "0", "--secret", SECRET],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    listening = process.stdout.readline()
    assert listening.startswith("listening on http://127.0.0.1:"), process.stderr
    yield process, listening.split()[-1]
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def settings(settings: Settings, receiver: tuple[subprocess.Popen[str], str]) -> Settings:
    return Settings(
        **{
            **settings.model_dump(),
            "platform": "http",
            "platform_url": receiver[1],
            "platform_secret": SECRET,
            "platform_timeout_seconds": 5.0,
        }
    )


def test_the_example_receiver_applies_once_and_answers_a_repeat_with_409(
    client: TestClient,
    tokens: Tokens,
    runtime: Runtime,
    receiver: tuple[subprocess.Popen[str], str],
) -> None:
    process, url = receiver
    client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    receipt = client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger)).json()
    client.post(f"/v1/cases/{receipt['case_id']}/claim", headers=bearer(tokens.reviewer))
    decided = client.post(
        f"/v1/cases/{receipt['case_id']}/decision",
        json=decision_body(),
        headers=bearer(tokens.reviewer),
    ).json()
    [action] = decided["actions"]
    assert action["state"] == "delivered"
    # Delivery is at least once: a worker whose result was lost sends the action again.
    with runtime.engine.begin() as conn:
        conn.execute(
            text("UPDATE actions SET state = 'pending', next_attempt_at = :now"),
            {"now": utcnow()},
        )
    assert runtime.deliver_actions() == 1  # the receiver's 409 counts as applied
    listed = client.get("/v1/actions", headers=bearer(tokens.admin)).json()
    assert [(a["state"], a["attempts"]) for a in listed] == [("delivered", 2)]

    body = b'{"idempotency_key": "forged"}'
    forged = sign(secret="not-the-secret-at-all", body=body)
    stale = sign(secret=SECRET, body=body, timestamp=int(time.time()) - 600)
    odd = "t=\u00b2,v1=" + "a" * 64  # a digit that is not 0-9; non-ASCII in v1 below
    for header in (forged, stale, "", odd, forged.replace("v1=", "v1=\u00e9")):
        answer = httpx.post(url, content=body, headers={SIGNATURE_HEADER: header.encode()})
        assert answer.status_code == 401, header
    for half in (b"[]", b'{"idempotency_key": "half"}'):  # signed, but not an action
        signed = {SIGNATURE_HEADER: sign(secret=SECRET, body=half)}
        assert httpx.post(url, content=half, headers=signed).status_code == 400

    process.terminate()
    printed, _ = process.communicate(timeout=10)
    key = action["action_id"]
    applied = [line for line in printed.splitlines() if line.startswith(f"apply {key}: ")]
    assert applied == [
        f"apply {key}: remove post beritakita/1 (terms: Fraud and scams), see "
        "http://127.0.0.1:8000/v1/posts/beritakita/1/statement"
    ]
    assert printed.splitlines().count(f"already applied {key}") == 1
    assert "forged" not in printed and "half" not in printed
