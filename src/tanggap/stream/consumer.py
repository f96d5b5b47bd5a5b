"""Consume the stream: one durable pull consumer shared by every ``tanggap ingest`` process.
A batch is acknowledged only once its posts are committed (at least once; a resend changes
nothing); a refused message goes to the dead-letter subject and is never delivered again."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from urllib.parse import urlsplit

import nats
import nats.errors
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
)
from nats.js.errors import APIError, NotFoundError

from tanggap import metrics
from tanggap.auth.schemas import Caller
from tanggap.config import Settings, covers_subject
from tanggap.errors import TanggapError
from tanggap.posts.schemas import PostIn
from tanggap.posts.service import IngestResult
from tanggap.runtime import Runtime
from tanggap.stream.intake import NoRoomForImages, StreamSetupError, is_outage, store_batch
from tanggap.stream.messages import MESSAGE, Origin, Refusal, dead_letter, read_post, refusal_of

log = structlog.get_logger(__name__)
DEAD_LETTER_DAYS = 30  # how long the dead-letter stream keeps a letter
FIRST_RETRY_SECONDS = 0.5  # the database away: the batch is tried again, the wait doubling...
MAX_RETRY_SECONDS = 30.0  # ...up to this (and under the ack wait: the batch stays ours)
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


@dataclass
class Delivery:
    """One message of a fetched batch and what it carries."""

    msg: Msg
    origin: Origin
    post: PostIn | Refusal


def _delivery(msg: Msg, settings: Settings) -> Delivery:
    meta = msg.metadata
    origin = Origin(
        stream=meta.stream,
        subject=msg.subject,
        sequence=meta.sequence.stream,
        deliveries=meta.num_delivered,
    )
    return Delivery(msg, origin, read_post(msg.data, max_bytes=settings.stream_max_message_bytes))


class StreamIngest:
    """Fetch batches from the durable consumer, store them, then acknowledge them."""

    def __init__(
        self, runtime: Runtime, caller: Caller, js: JetStreamContext, stopping: asyncio.Event
    ) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.caller = caller
        self.js = js
        self.stopping = stopping

    async def run(self) -> None:
        """Consume until ``stopping`` is set; the batch in hand is finished first."""
        settings = self.settings
        pull = await self.js.pull_subscribe_bind(
            durable=settings.stream_consumer, stream=settings.stream_name
        )
        failures = 0
        while not self.stopping.is_set():
            try:
                msgs = await pull.fetch(
                    settings.stream_batch_size, timeout=settings.stream_fetch_wait_seconds
                )
            except TimeoutError:  # nats-py's and asyncio's: nothing came in the wait
                failures = 0
                continue
            except NATS_ERRORS as exc:  # the server restarts: the client reconnects meanwhile
                failures += 1
                log.warning("stream.fetch_failed", error=repr(exc), failures=failures)
                await self._pause(min(FIRST_RETRY_SECONDS * 2**failures, MAX_RETRY_SECONDS))
                continue
            failures = 0
            try:
                await self.handle([_delivery(msg, settings) for msg in msgs])
            except NATS_ERRORS as exc:  # an acknowledgement lost: the message comes again
                log.warning("stream.acknowledgement_failed", error=str(exc))

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less when asked to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)

    async def handle(self, batch: list[Delivery]) -> None:
        """Store the batch's posts, acknowledge them, dead-letter what is refused."""
        redelivered = sum(delivery.origin.deliveries > 1 for delivery in batch)
        if redelivered:
            metrics.STREAM_REDELIVERIES.inc(redelivered)
        valid = [d for d in batch if isinstance(d.post, PostIn)]
        refused = [(d, d.post) for d in batch if isinstance(d.post, Refusal)]
        outcomes = await self._store(valid) if valid else []
        if outcomes is None:  # left unacknowledged (or handed back): delivered again later
            valid, outcomes = [], []
        stored = 0
        for delivery, outcome in zip(valid, outcomes, strict=True):
            if isinstance(outcome, TanggapError):
                refused.append((delivery, refusal_of(outcome)))
                continue
            metrics.STREAM_POSTS.labels(outcome=_outcome(outcome)).inc()
            await delivery.msg.ack()
            stored += 1
        for delivery, refusal in refused:
            await self._dead_letter(delivery, refusal)
        log.info("stream.batch", stored=stored, refused=len(refused), redelivered=redelivered)

    async def _store(self, batch: list[Delivery]) -> list[IngestResult | TanggapError] | None:
        """Store the posts, trying again while the database is away (the messages stay ours
        meanwhile); None when stopped meanwhile, or when the batch failed otherwise."""
        posts = [d.post for d in batch if isinstance(d.post, PostIn)]
        wait = FIRST_RETRY_SECONDS
        ceiling = min(MAX_RETRY_SECONDS, self.settings.stream_ack_wait_seconds / 2)
        while True:
            try:
                return await asyncio.to_thread(store_batch, self.runtime, self.caller, posts)
            except Exception as exc:
                if not isinstance(exc, NoRoomForImages) and not is_outage(exc):
                    await self._failed(batch, exc)
                    return None
                log.warning("stream.store_deferred", error=type(exc).__name__, retry_in=wait)
            if self.stopping.is_set():
                return None
            with contextlib.suppress(*NATS_ERRORS):
                for delivery in batch:
                    await delivery.msg.in_progress()  # still ours: no redelivery meanwhile
            await self._pause(wait)
            if self.stopping.is_set():
                return None
            wait = min(wait * 2, ceiling)

    async def _failed(self, batch: list[Delivery], error: Exception) -> None:
        """A batch failed for a reason other than the database being away: hand its messages
        back for later, and dead-letter those at their last delivery."""
        log.error(
            "stream.batch_failed", error=type(error).__name__, posts=len(batch), exc_info=error
        )
        for delivery in batch:
            if delivery.origin.deliveries >= self.settings.stream_max_deliveries:
                tries = delivery.origin.deliveries
                reason = f"storing it failed {tries} times ({type(error).__name__})"
                refusal = Refusal("internal_error", MESSAGE, reason)
                await self._dead_letter(delivery, refusal)
            else:
                later = FIRST_RETRY_SECONDS * 2**delivery.origin.deliveries
                await delivery.msg.nak(delay=min(later, MAX_RETRY_SECONDS))

    async def _dead_letter(self, delivery: Delivery, refusal: Refusal) -> None:
        """Publish the dead letter (stored before the message is let go), then end the message."""
        origin = delivery.origin
        letter = dead_letter(
            refusal,
            data=delivery.msg.data,
            origin=origin,
            max_bytes=self.settings.stream_max_message_bytes,
        )
        try:
            await self.js.publish(
                self.settings.stream_dead_letter_subject,
                letter,
                # The same message dead-lettered twice (a lost ack) is stored once.
                headers={"Nats-Msg-Id": f"{origin.stream}:{origin.sequence}"},
            )
        except NATS_ERRORS as exc:
            log.warning("stream.dead_letter_failed", error=str(exc), sequence=origin.sequence)
            await delivery.msg.nak(delay=FIRST_RETRY_SECONDS)
            return
        metrics.STREAM_DEAD_LETTERS.labels(reason=refusal.code).inc()
        log.info(
            "stream.dead_lettered",
            reason=refusal.code,
            field=refusal.field,
            sequence=origin.sequence,
            message_bytes=len(delivery.msg.data),
        )
        await delivery.msg.term()


def _outcome(result: IngestResult) -> str:
    if result.created:
        return "created"
    return "updated" if result.changed else "unchanged"


async def _nats_error(error: Exception) -> None:
    log.warning("stream.nats_error", error=repr(error))


async def _disconnected() -> None:
    log.warning("stream.disconnected")


async def _reconnected() -> None:
    log.info("stream.reconnected")


async def connect(settings: Settings) -> Client:
    """Connect to the NATS server (refused after ``CONNECT_SECONDS``), then reconnect for ever
    whenever the connection drops."""
    assert settings.nats_url is not None
    try:
        return await asyncio.wait_for(
            nats.connect(
                settings.nats_url,
                name="tanggap-ingest",
                max_reconnect_attempts=-1,
                connect_timeout=5,
                error_cb=_nats_error,
                disconnected_cb=_disconnected,
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


async def consume(runtime: Runtime, caller: Caller, stopping: asyncio.Event) -> None:
    """Set the stream up, then store its posts until ``stopping`` is set."""
    settings = runtime.settings
    client = await connect(settings)
    try:
        js = client.jetstream()
        try:
            await ensure_stream(js, settings)
        except NATS_ERRORS as exc:  # JetStream off, no permission…
            raise StreamSetupError(f"TANGGAP_NATS_URL: cannot set the stream up: {exc}") from exc
        log.info(
            "ingest.started",
            stream=settings.stream_name,
            subjects=settings.stream_subject_list,
            consumer=settings.stream_consumer,
            dead_letters=settings.stream_dead_letter_subject,
            principal=str(caller.id),
        )
        await StreamIngest(runtime, caller, js, stopping).run()
    finally:
        with contextlib.suppress(*NATS_ERRORS):
            await client.flush(timeout=5)  # the last acknowledgements leave before the close
        await client.close()
