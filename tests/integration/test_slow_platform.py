"""A platform that takes seconds to answer delays nobody: the outbox calls it outside any
database transaction, under a lease, so reports keep being accepted meanwhile."""

from __future__ import annotations

import sqlite3
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tanggap.actions.platform import PlatformAction, RecordingAdapter
from tanggap.db.base import utcnow
from tanggap.runtime import Runtime
from tests.factories import Tokens, bearer, decision_body, post_body, report_body

HOLD_SECONDS = 5.0
SAMPLES = 5


@dataclass
class SlowPlatform:
    """A real HTTP server on 127.0.0.1 that holds every request for up to ``HOLD_SECONDS``."""

    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    answered: threading.Event = field(default_factory=threading.Event)
    url: str = ""


@pytest.fixture
def slow_platform() -> Iterator[SlowPlatform]:
    """Serve the slow platform; let go of a held request when the test ends."""
    platform = SlowPlatform()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            platform.arrived.set()
            platform.release.wait(HOLD_SECONDS)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            platform.answered.set()

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    platform.url = f"http://127.0.0.1:{server.server_address[1]}/actions"
    yield platform
    platform.release.set()
    server.shutdown()
    server.server_close()


@dataclass
class HttpPlatform:
    """A platform adapter that POSTs each action to a platform's HTTP endpoint."""

    url: str

    def apply(self, action: PlatformAction) -> None:
        """Send the action; a non-2xx answer is a failure to retry."""
        answer = httpx.post(
            self.url,
            json={"idempotency_key": action.idempotency_key, "kind": action.kind},
            timeout=HOLD_SECONDS * 2,
        )
        answer.raise_for_status()


def submit_report(client: TestClient, tokens: Tokens, reporter: int) -> float:
    """Report post 2 as a new user; return how long the answer took, in seconds."""
    body = report_body("https://t.me/beritakita/2", reporter_id=f"user-{reporter}")
    started = time.perf_counter()
    answer = client.post("/v1/reports", json=body, headers=bearer(tokens.platform))
    took = time.perf_counter() - started
    assert answer.status_code == 202, answer.text
    return took


def no_transaction_open(runtime: Runtime) -> bool:
    """Tell whether another connection could write right now: nobody holds SQLite's write lock,
    and no PostgreSQL session sits in an open transaction."""
    if runtime.engine.dialect.name == "sqlite":
        writer = sqlite3.connect(str(runtime.engine.url.database), timeout=0, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")  # fails at once while another writer holds the lock
            writer.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            writer.close()
    with runtime.engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%'"
            )
        ).scalar_one()
        return int(waiting) == 0


def test_a_platform_that_takes_seconds_delays_no_report(
    client: TestClient, tokens: Tokens, runtime: Runtime, slow_platform: SlowPlatform
) -> None:
    for message_id in (1, 2):
        client.post(
            "/v1/posts", json=post_body(message_id=message_id), headers=bearer(tokens.platform)
        )
    receipt = client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger)).json()
    # The decision's first delivery fails, so its takedown waits in the outbox.
    runtime.adapter = RecordingAdapter(fail_times=1)
    client.post(f"/v1/cases/{receipt['case_id']}/claim", headers=bearer(tokens.reviewer))
    decided = client.post(
        f"/v1/cases/{receipt['case_id']}/decision",
        json=decision_body(),
        headers=bearer(tokens.reviewer),
    )
    assert decided.json()["actions"][0]["state"] == "pending"
    baseline = [submit_report(client, tokens, n) for n in range(SAMPLES)]

    runtime.adapter = HttpPlatform(slow_platform.url)
    delivered: list[int] = []
    dispatcher = threading.Thread(
        target=lambda: delivered.append(runtime.deliver_actions(now=utcnow() + timedelta(hours=1)))
    )
    dispatcher.start()
    assert slow_platform.arrived.wait(30), "the outbox never called the platform"

    during = [submit_report(client, tokens, SAMPLES + n) for n in range(SAMPLES)]
    assert no_transaction_open(runtime)
    # All of it happened while the platform still held its answer.
    assert not slow_platform.answered.is_set() and dispatcher.is_alive()

    slow_platform.release.set()
    dispatcher.join(timeout=30)
    assert delivered == [1]
    status = client.get(f"/v1/reports/{receipt['report_id']}", headers=bearer(tokens.flagger))
    assert status.json()["status"] == "actioned"
    slower = statistics.median(during) - statistics.median(baseline)
    assert slower < 0.1, f"reports took {slower * 1000:.0f} ms longer while the platform answered"
