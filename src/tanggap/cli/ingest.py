"""``tanggap ingest``: posts from the NATS JetStream stream, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal

import structlog
from sqlalchemy.exc import SQLAlchemyError

from tanggap.auth.schemas import Caller
from tanggap.cli.common import fail, load_settings, runtime_for
from tanggap.runtime import Runtime
from tanggap.stream.consumer import consume
from tanggap.stream.intake import StreamSetupError, stream_caller

log = structlog.get_logger(__name__)


def ingest() -> None:
    """Store the posts of the NATS stream (TANGGAP_NATS_URL) until stopped; the batch in hand
    is finished, or left unacknowledged for another process."""
    settings = load_settings()  # refuse bad settings before anything starts
    if not settings.nats_url:
        fail("TANGGAP_NATS_URL is not set: `tanggap ingest` consumes posts from a NATS stream")
    with runtime_for(settings) as runtime:
        try:
            caller = stream_caller(runtime, settings.stream_principal)
        except StreamSetupError as exc:
            fail(str(exc))
        except SQLAlchemyError as exc:
            fail(f"TANGGAP_DATABASE_URL: cannot read the principals: {type(exc).__name__}")
        runtime.pipeline.warm_up()  # before the first batch, whose ack would wait for it
        # The images of the posts are hashed before each batch's transaction (stream.media):
        # no background hashing here.
        try:
            asyncio.run(_until_stopped(runtime, caller))
        except StreamSetupError as exc:
            fail(str(exc))
    log.info("ingest.stopped")


async def _until_stopped(runtime: Runtime, caller: Caller) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stop(signum: signal.Signals) -> None:
        log.info("ingest.stopping", signal=signum.name)
        stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop, signum)
    await consume(runtime, caller, stopping)
