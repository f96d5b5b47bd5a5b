"""What the stream tests share: ``consume`` run in a thread as ``tanggap ingest`` runs it, a
publisher, and readers of what the database, the stream and the counters hold."""

from __future__ import annotations

import asyncio
import io
import json
import threading
from dataclasses import dataclass, field

import nats
import numpy as np
from PIL import Image
from sqlalchemy import Select, func, select

from tanggap import metrics
from tanggap.audit.models import AuditEvent
from tanggap.auth.schemas import Caller
from tanggap.config import Settings
from tanggap.posts.models import Post
from tanggap.runtime import Runtime
from tanggap.stream.consumer import consume
from tanggap.stream.setup import dead_letter_stream, ensure_stream
from tests.nats_server import publish, read_stream, stream_messages


async def set_up(settings: Settings) -> None:
    """Create the stream, the dead-letter stream and the consumer, as ``tanggap ingest`` does."""
    client = await nats.connect(settings.nats_url)
    await ensure_stream(client.jetstream(), settings)
    await client.close()


@dataclass
class Consumer:
    """``consume`` running in a thread of its own, as ``tanggap ingest`` runs it."""

    runtime: Runtime
    caller: Caller
    ready: threading.Event = field(default_factory=threading.Event)
    failures: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(10)

    def _run(self) -> None:
        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            self.stopping = asyncio.Event()
            self.ready.set()
            await consume(self.runtime, self.caller, self.stopping)

        try:
            asyncio.run(main())
        except BaseException as exc:
            self.failures.append(exc)

    def stop(self) -> None:
        """Ask it to stop, wait for it, and raise what it raised."""
        self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()
        if self.failures:
            raise self.failures[0]


def send(
    runtime: Runtime, *bodies: dict[str, object] | bytes, headers: dict[str, str] | None = None
) -> None:
    """Publish the messages to the runtime's stream, in order."""
    settings = runtime.settings
    payloads = [b if isinstance(b, bytes) else json.dumps(b).encode() for b in bodies]
    assert settings.nats_url is not None
    publish(settings.nats_url, settings.stream_subject_list[0], payloads, headers)


def count(runtime: Runtime, query: Select[int]) -> int:
    with runtime.factory() as session:
        return session.execute(query).scalar_one()


def posts_stored(runtime: Runtime) -> int:
    return count(runtime, select(func.count()).select_from(Post))


def events(runtime: Runtime, action: str) -> int:
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    return count(runtime, query)


def stream_drained(runtime: Runtime) -> bool:
    """Every message was acknowledged or ended: the work-queue stream holds none."""
    settings = runtime.settings
    assert settings.nats_url is not None
    return stream_messages(settings.nats_url, settings.stream_name) == 0


def dead_letters(runtime: Runtime) -> list[dict[str, object]]:
    settings = runtime.settings
    assert settings.nats_url is not None
    return read_stream(settings.nats_url, dead_letter_stream(settings))


def counter(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def noise(seed: int, size: int) -> bytes:
    """A PNG of random pixels: PDQ quality 100, and no two alike."""
    pixels = np.random.default_rng(seed).integers(0, 256, size=(size, size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()
