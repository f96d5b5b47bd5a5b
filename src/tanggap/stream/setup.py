"""Set the stream up and connect to NATS: the stream of posts, the dead-letter stream and the
durable pull consumer, created when absent by every ``tanggap ingest`` process at its start."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import nats.errors
import structlog
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
)
from nats.js.errors import APIError, NotFoundError

from tanggap.config import Settings, covers_subject
from tanggap.stream.intake import StreamSetupError

log = structlog.get_logger(__name__)
DEAD_LETTER_DAYS = 30  # how long the dead-letter stream keeps a letter
NATS_ERRORS = (nats.errors.Error, OSError)
CONNECT_SECONDS = 15.0


def dead_letter_stream(settings: Settings) -> str:
    """Return the name of the stream that keeps the dead letters."""
    return f"{settings.stream_name}_DEAD"


async def _ensure_one_stream(
    js: JetStreamContext, name: str, subjects: list[str], **config: object
) -> None:
    """Create the stream ``name`` on ``subjects`` unless it exists; one made by hand is left as
    it is, as long as it takes the subjects."""
    try:
        found = await js.stream_info(name)
    except NotFoundError:
        pass
    else:
        taken = found.config.subjects or []
        for subject in subjects:
            if not any(covers_subject(pattern, subject) for pattern in taken):
                raise StreamSetupError(
                    f"the stream {name!r} exists without the subject {subject!r} "
                    f"(it takes {', '.join(taken) or 'none'}): add it to the stream, or set "
                    "TANGGAP_STREAM_NAME or TANGGAP_STREAM_SUBJECTS to match"
                )
        return
    try:
        await js.add_stream(name=name, subjects=subjects, **config)  # type: ignore[arg-type]
    except APIError:
        # Another process created it meanwhile (or the configuration clashes: then say so).
        try:
            await js.stream_info(name)
        except NotFoundError as exc:
            raise StreamSetupError(f"cannot create the stream {name!r}: {exc}") from exc


async def ensure_stream(js: JetStreamContext, settings: Settings) -> None:
    """Create the posts stream, the dead-letter stream and the durable pull consumer when they
    are absent; idempotent, so every ``tanggap ingest`` process runs it at its start."""
    subjects = settings.stream_subject_list
    await _ensure_one_stream(
        js,
        settings.stream_name,
        subjects=subjects,
        retention=RetentionPolicy.WORK_QUEUE,  # a post leaves the stream once committed
        storage=StorageType.FILE,
    )
    await _ensure_one_stream(
        js,
        dead_letter_stream(settings),
        subjects=[settings.stream_dead_letter_subject],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=DEAD_LETTER_DAYS * 86_400.0,
    )
    consumer = ConsumerConfig(
        durable_name=settings.stream_consumer,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=settings.stream_ack_wait_seconds,
        max_deliver=settings.stream_max_deliveries,
        max_ack_pending=max(1000, settings.stream_batch_size * 10),
    )
    if len(subjects) == 1:
        consumer.filter_subject = subjects[0]
    else:
        consumer.filter_subjects = subjects
    try:
        # Creates the consumer, or updates the settings that may change (ack wait, deliveries).
        await js.add_consumer(settings.stream_name, consumer)
    except APIError as exc:
        raise StreamSetupError(
            f"cannot create the consumer {settings.stream_consumer!r} on the stream "
            f"{settings.stream_name!r}: {exc.description or exc}"
        ) from exc


async def _nats_error(error: Exception) -> None:
    log.warning("stream.nats_error", error=repr(error))


async def _reconnected() -> None:
    log.info("stream.reconnected")


async def connect(settings: Settings) -> Client:
    """Connect to the NATS server (refused after ``CONNECT_SECONDS``), then reconnect for ever
    whenever the connection drops."""
    assert settings.nats_url is not None
    client = Client()

    async def disconnected() -> None:
        if not client.is_closed:  # nats-py says so on a close asked for, too
            log.warning("stream.disconnected")

    try:
        await asyncio.wait_for(
            client.connect(
                settings.nats_url,
                name="tanggap-ingest",
                max_reconnect_attempts=-1,
                connect_timeout=5,
                error_cb=_nats_error,
                disconnected_cb=disconnected,
                reconnected_cb=_reconnected,
            ),
            timeout=CONNECT_SECONDS,
        )
    except (*NATS_ERRORS, TimeoutError) as exc:
        where = urlsplit(settings.nats_url).netloc.rpartition("@")[2]  # no credentials
        raise StreamSetupError(
            f"TANGGAP_NATS_URL: cannot reach NATS at {where} within {CONNECT_SECONDS:.0f} s "
            f"({type(exc).__name__})"
        ) from exc
    return client
