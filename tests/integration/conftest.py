"""Fixtures of the stream tests: a runtime with a stream of its own, and consumers to start."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator

import pytest

from tanggap.auth import service as auth
from tanggap.config import Settings
from tanggap.runtime import Runtime, build_runtime
from tanggap.stream.intake import stream_caller
from tests.stream_support import Consumer, set_up


@pytest.fixture
def stream_runtime(settings: Settings, nats_url: str) -> Iterator[Runtime]:
    """A runtime whose stream, subjects and consumer are this test's alone."""
    tag = uuid.uuid4().hex[:10]
    runtime = build_runtime(
        settings.model_copy(
            update={
                "nats_url": nats_url,
                "stream_name": f"POSTS_{tag}",
                "stream_subjects": f"t{tag}.posts",
                "stream_dead_letter_subject": f"t{tag}.dead",
                "stream_consumer": f"ingest-{tag}",
                "stream_max_message_bytes": 4096,
                "stream_max_object_bytes": 16_384,
                "stream_fetch_wait_seconds": 0.2,
                "stream_principal": "stream platform",
            }
        )
    )
    with runtime.factory() as session, session.begin():
        auth.create_principal(session=session, role="platform", name="stream platform")
    asyncio.run(set_up(runtime.settings))  # as the first `tanggap ingest` would
    yield runtime
    runtime.close()


@pytest.fixture
def start_consumer(stream_runtime: Runtime) -> Iterator[Callable[[], Consumer]]:
    started: list[Consumer] = []

    def start() -> Consumer:
        caller = stream_caller(stream_runtime, stream_runtime.settings.stream_principal)
        consumer = Consumer(stream_runtime, caller)
        started.append(consumer)
        return consumer

    yield start
    for consumer in started:
        if consumer.thread.is_alive():
            consumer.stop()
