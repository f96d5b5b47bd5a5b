"""``tanggap ingest`` as a real process against a real ``nats-server -js``: clear refusals at
start, and a consumer killed with SIGKILL amid a stream of posts, restarted as two, loses and
repeats nothing."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Select, func, select

from tanggap.actions.models import Action
from tanggap.audit.models import AuditEvent
from tanggap.auth import service as auth
from tanggap.posts.models import Post, PostMedia
from tanggap.runtime import Runtime
from tests.conftest import TEST_SECRET
from tests.factories import post_body
from tests.nats_server import publish, stream_messages
from tests.stream_support import noise
from tests.workers import TANGGAP, Worker, wait_until

POSTS = 60
RULES = """version: 1
rules:
  - id: test.take-down
    category: fraud
    domains: [klaim-bantuan.example.net]
    effect: {auto_remove: true}
"""


def stream_settings(nats_url: str) -> dict[str, str]:
    """The stream settings of one test: a stream, subjects and consumer of its own."""
    tag = uuid.uuid4().hex[:10]
    return {
        "TANGGAP_NATS_URL": nats_url,
        "TANGGAP_STREAM_NAME": f"POSTS_{tag}",
        "TANGGAP_STREAM_SUBJECTS": f"t{tag}.posts",
        "TANGGAP_STREAM_DEAD_LETTER_SUBJECT": f"t{tag}.dead",
        "TANGGAP_STREAM_CONSUMER": f"ingest-{tag}",
        "TANGGAP_STREAM_PRINCIPAL": "stream platform",
    }


def environment(database_url: str, **settings: str) -> dict[str, str]:
    return {
        **os.environ,
        "TANGGAP_DATABASE_URL": database_url,
        "TANGGAP_SECRET_KEY": TEST_SECRET,
        "TANGGAP_ENV": "test",
        "TANGGAP_SQLITE_SYNCHRONOUS": "NORMAL",
        **settings,
    }


def start_ingest(database_url: str, **settings: str) -> Worker:
    """Start ``tanggap ingest``; its structured log is read as a worker's."""
    process = subprocess.Popen(
        [TANGGAP, "ingest"],
        env=environment(database_url, **settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return Worker(process)


def refusal(database_url: str, **settings: str) -> tuple[int, list[str]]:
    done = subprocess.run(
        [TANGGAP, "ingest"],
        env=environment(database_url, **settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stderr.strip().splitlines()


def test_ingest_refuses_to_start_without_a_stream_or_a_platform_principal(
    database_url: str, runtime: Runtime, nats_url: str
) -> None:
    with runtime.factory() as session, session.begin():
        auth.create_principal(session=session, role="admin", name="stream platform")
    assert refusal(database_url) == (
        1,
        ["error: TANGGAP_NATS_URL is not set: `tanggap ingest` consumes posts from a NATS stream"],
    )
    assert refusal(database_url, **stream_settings(nats_url)) == (
        1,
        [
            "error: TANGGAP_STREAM_PRINCIPAL: 'stream platform' is a principal of role admin, "
            "not a platform principal"
        ],
    )


def _count(runtime: Runtime, query: Select[int]) -> int:
    with runtime.factory() as session:
        return session.execute(query).scalar_one()


def test_a_consumer_killed_amid_the_stream_stores_every_post_exactly_once(
    database_backend: tuple[str, str],
    database_url: str,
    runtime: Runtime,
    nats_url: str,
    tmp_path: Path,
) -> None:
    if database_backend[0] != "postgresql":
        pytest.skip("a killed writer amid a stream is checked on PostgreSQL (SQLite: one writer)")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "test.yaml").write_text(RULES, encoding="utf-8")
    with runtime.factory() as session, session.begin():
        auth.create_principal(session=session, role="platform", name="stream platform")
    settings = {
        **stream_settings(nats_url),
        "TANGGAP_RULES_DIR": str(rules),
        "TANGGAP_STREAM_BATCH_SIZE": "10",
        "TANGGAP_STREAM_ACK_WAIT_SECONDS": "2",  # the killed consumer's batch comes back soon
        "TANGGAP_STREAM_FETCH_WAIT_SECONDS": "0.2",
    }
    subject = settings["TANGGAP_STREAM_SUBJECTS"]
    bodies = [
        post_body(
            message_id=n,
            # Every tenth post links to a site a rule takes down at once: one action each.
            text=f"kabar {n} https://klaim-bantuan.example.net/{n}"
            if n % 10 == 0
            else f"kabar {n}",
            # Every fifth carries an image, hashed before its batch's commit.
            media=[{"data": base64.b64encode(noise(n, 24)).decode()}] if n % 5 == 0 else [],
        )
        for n in range(1, POSTS + 1)
    ]

    def stored() -> int:
        return _count(runtime, select(func.count()).select_from(Post))

    first = start_ingest(database_url, **settings)
    try:
        first.wait_for("ingest.started")
        sender = threading.Thread(
            target=publish,
            args=(nats_url, subject, [json.dumps(body).encode() for body in bodies]),
        )
        sender.start()
        assert wait_until(lambda: stored() >= POSTS // 4)
        first.process.kill()  # SIGKILL: no batch finished, no acknowledgement sent
        first.process.wait(timeout=10)
        assert stored() < POSTS, "the kill came too late to land amid the stream"
        sender.join(timeout=30)
    finally:
        first.kill()

    # Restarted as two processes sharing the one durable consumer.
    restarted = [start_ingest(database_url, **settings) for _ in range(2)]
    try:
        for process in restarted:
            process.wait_for("ingest.started")
        stream = settings["TANGGAP_STREAM_NAME"]
        assert wait_until(lambda: stored() == POSTS and stream_messages(nats_url, stream) == 0)
        for process in restarted:
            assert process.stop() == 0  # SIGTERM: the batch in hand finished, a clean exit
            assert process.events("ingest.stopped")
    finally:
        for process in restarted:
            process.kill()

    ingested = select(func.count()).select_from(AuditEvent)
    assert _count(runtime, ingested.where(AuditEvent.action == "post.ingested")) == POSTS
    assert _count(runtime, ingested.where(AuditEvent.action == "post.updated")) == 0
    per_post = (
        select(Action.post_id, func.count()).group_by(Action.post_id).order_by(Action.post_id)
    )
    with runtime.factory() as session:
        actions = [n for _, n in session.execute(per_post)]
    assert actions == [1] * (POSTS // 10)  # every automatic action queued once
    hashed = select(func.count()).select_from(PostMedia)
    assert _count(runtime, hashed.where(PostMedia.pdq.is_not(None))) == POSTS // 5
    assert _count(runtime, hashed.where(PostMedia.pdq_pending)) == 0  # none left to a process
