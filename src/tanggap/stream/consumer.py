"""Consume the stream: one durable pull consumer shared by every ``tanggap ingest`` process.
A batch's files are hashed before its transaction, and the batch is acknowledged only once its
posts and channels are committed (at least once; a resend changes nothing); a refused message goes
to the dead-letter subject and is never delivered again."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from tanggap import metrics
from tanggap.auth.schemas import Caller
from tanggap.channels.schemas import ChannelIn
from tanggap.config import Settings
from tanggap.errors import TanggapError
from tanggap.posts.schemas import PostIn
from tanggap.posts.service import IngestResult
from tanggap.runtime import Runtime
from tanggap.stream.intake import (
    ChannelStored,
    StreamSetupError,
    is_outage,
    store_batch,
)
from tanggap.stream.media import fetch_files, hashed_post
from tanggap.stream.messages import (
    MESSAGE,
    Origin,
    Refusal,
    StreamPostIn,
    dead_letter,
    read_message,
    refusal_of,
)
from tanggap.stream.setup import NATS_ERRORS, connect, ensure_stream

log = structlog.get_logger(__name__)
FIRST_RETRY_SECONDS = 0.5  # the database or NATS away: the batch is tried again, doubling...
# After a batch's first message, how long more may come to join it: the most a post waits for
# company, so a quiet stream's posts are stored within a few tens of milliseconds.
GATHER_SECONDS = 0.05
MAX_RETRY_SECONDS = 30.0  # ...up to this (and under the ack wait: the batch stays ours)
T = TypeVar("T")


@dataclass
class Delivery:
    """One message of a fetched batch and what it carries (a post's files hashed once it is
    prepared)."""

    msg: Msg
    origin: Origin
    content: PostIn | ChannelIn | Refusal


def _delivery(msg: Msg, settings: Settings) -> Delivery:
    meta = msg.metadata
    origin = Origin(
        stream=meta.stream,
        subject=msg.subject,
        sequence=meta.sequence.stream,
        deliveries=meta.num_delivered,
    )
    content = read_message(msg.data, msg.headers, max_bytes=settings.stream_max_message_bytes)
    return Delivery(msg, origin, content)


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
                msgs = await self._next_batch(pull)
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

    async def _next_batch(self, pull: JetStreamContext.PullSubscription) -> list[Msg]:
        """Wait (up to the fetch wait) for a first message, then take what else the stream holds
        or receives within ``GATHER_SECONDS``, up to the batch size: a busy stream fills whole
        batches, and a quiet one does not hold a post back waiting for others to fill its batch."""
        size = self.settings.stream_batch_size
        first = await pull.fetch(1, timeout=self.settings.stream_fetch_wait_seconds)
        if size <= len(first):
            return first
        try:
            return first + await pull.fetch(size - len(first), timeout=GATHER_SECONDS)
        except (TimeoutError, *NATS_ERRORS):  # nothing more came: the first goes alone
            return first

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less when asked to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)

    async def handle(self, batch: list[Delivery]) -> None:
        """Hash the posts' files, store the batch, acknowledge it, dead-letter what is refused."""
        redelivered = sum(delivery.origin.deliveries > 1 for delivery in batch)
        if redelivered:
            metrics.STREAM_REDELIVERIES.inc(redelivered)
        if not await self._retrying(batch, "stream.prepare_deferred", self._prepare, _nats_away):
            return  # left unacknowledged (or handed back): delivered again later
        valid = [d for d in batch if not isinstance(d.content, Refusal)]
        refused = [(d, d.content) for d in batch if isinstance(d.content, Refusal)]
        outcomes = await self._store(valid) if valid else []
        if outcomes is None:  # left unacknowledged (or handed back): delivered again later
            valid, outcomes = [], []
        stored = channels = 0
        for delivery, outcome in zip(valid, outcomes, strict=True):
            if isinstance(outcome, TanggapError):
                refused.append((delivery, refusal_of(outcome)))
                continue
            if isinstance(outcome, ChannelStored):
                channels += 1
            else:
                metrics.STREAM_POSTS.labels(outcome=_outcome(outcome)).inc()
                stored += 1
            await delivery.msg.ack()
        for delivery, refusal in sorted(refused, key=lambda pair: pair[0].origin.sequence):
            await self._dead_letter(delivery, refusal)
        log.info(
            "stream.batch",
            stored=stored,
            channels=channels,
            refused=len(refused),
            redelivered=redelivered,
        )

    async def _prepare(self, batch: list[Delivery]) -> bool:
        """Hash the files of the batch's posts in a worker thread, reading those named in an
        object store first; a post whose file is refused becomes its refusal. A post already
        prepared is left as it is, so that this may be run again after a NATS error."""
        settings = self.settings
        kept_at = time.monotonic()
        for delivery in batch:
            post = delivery.content
            if not isinstance(post, StreamPostIn) or not post.has_files():
                continue
            fetched = await fetch_files(self.js, post, max_bytes=settings.stream_max_object_bytes)
            if isinstance(fetched, Refusal):
                delivery.content = fetched
            else:
                delivery.content = await asyncio.to_thread(hashed_post, post, fetched)
            if time.monotonic() - kept_at > settings.stream_ack_wait_seconds / 4:
                await self._keep(batch)  # many large files: the batch stays ours meanwhile
                kept_at = time.monotonic()
        return True

    async def _keep(self, batch: list[Delivery]) -> None:
        """Tell the server the batch's messages are still being worked on."""
        with contextlib.suppress(*NATS_ERRORS):
            for delivery in batch:
                await delivery.msg.in_progress()

    async def _store(
        self, batch: list[Delivery]
    ) -> list[IngestResult | ChannelStored | TanggapError] | None:
        """Store the batch, trying again while the database is away; None when stopped
        meanwhile, or when the batch failed otherwise."""
        items = [d.content for d in batch if not isinstance(d.content, Refusal)]

        async def attempt(_: list[Delivery]) -> list[IngestResult | ChannelStored | TanggapError]:
            return await asyncio.to_thread(store_batch, self.runtime, self.caller, items)

        return await self._retrying(batch, "stream.store_deferred", attempt, _database_away)

    async def _retrying(
        self,
        batch: list[Delivery],
        event: str,
        step: Callable[[list[Delivery]], Awaitable[T]],
        transient: Callable[[Exception], bool],
    ) -> T | None:
        """Run ``step`` on the batch, again after a ``transient`` failure (the messages stay
        ours meanwhile, the wait doubling); None when stopped meanwhile, or when the step failed
        otherwise (the batch is handed back)."""
        wait = FIRST_RETRY_SECONDS
        ceiling = min(MAX_RETRY_SECONDS, self.settings.stream_ack_wait_seconds / 2)
        while True:
            try:
                return await step(batch)
            except Exception as exc:
                if not transient(exc):
                    await self._failed(batch, exc)
                    return None
                log.warning(event, error=type(exc).__name__, retry_in=wait)
            if self.stopping.is_set():
                return None
            await self._keep(batch)
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


def _nats_away(error: Exception) -> bool:
    return isinstance(error, NATS_ERRORS)


def _database_away(error: Exception) -> bool:
    return is_outage(error)


def _outcome(result: IngestResult) -> str:
    if result.created:
        return "created"
    return "updated" if result.changed else "unchanged"


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
