"""The Telegram connector run in a thread of the test against the stand-in Bot API, and a way to
know every update queued so far was taken (no sleep)."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import SecretStr

from tanggap.auth import service as auth
from tanggap.config import Settings
from tanggap.platforms.botapi import BotApi
from tanggap.runtime import Runtime
from tanggap.telegram.intake import Instructions, TelegramIntake
from tanggap.telegram.port import PrivateChats
from tanggap.telegram.runner import run
from tests.telegram_standin import BotApiStandin, private_message

# A stranger who writes to the bot after the updates under test: the connector takes updates
# one after the other, so its answer means everything before it was taken.
BARRIER_USER = 990_000_001
_barriers = itertools.count(1)


def telegram_settings(settings: Settings, standin: BotApiStandin) -> Settings:
    """Return ``settings`` with Telegram as the platform, its Bot API the stand-in."""
    return settings.model_copy(
        update={
            "platform": "telegram",
            "telegram_token": SecretStr(standin.token),
            "telegram_api_url": standin.url,
            "telegram_max_photo_bytes": 200_000,
        }
    )


@contextmanager
def connector(
    runtime: Runtime,
    standin: BotApiStandin,
    chats: PrivateChats | None = None,
    first_wait: float = 0.5,
) -> Iterator[TelegramIntake]:
    """Run the connector (python-telegram-bot's long polling) until the block ends."""
    api = BotApi(token=standin.token, api_url=standin.url, timeout=5)
    intake = TelegramIntake(runtime, api, chats or Instructions())
    loop = asyncio.new_event_loop()
    stopping: list[asyncio.Event] = []
    started = threading.Event()
    failed: list[BaseException] = []

    async def main() -> None:
        stopping.append(asyncio.Event())
        started.set()
        await run(
            intake,
            token=standin.token,
            api_url=standin.url,
            timeout=5,
            stopping=stopping[0],
            poll_seconds=5,
            first_wait=first_wait,
        )

    def thread_main() -> None:
        try:
            loop.run_until_complete(main())
        except BaseException as exc:  # handed to the test below
            failed.append(exc)
            started.set()
        finally:
            loop.close()

    thread = threading.Thread(target=thread_main, daemon=True)
    thread.start()
    started.wait(30)
    try:
        yield intake
    finally:
        if stopping and not loop.is_closed():
            loop.call_soon_threadsafe(stopping[0].set)
        thread.join(30)
        api.close()
    assert not thread.is_alive(), "the connector did not stop"
    if failed:
        raise failed[0]


def taken(standin: BotApiStandin) -> None:
    """Wait until every update queued so far was taken by the connector."""
    before = len(standin.calls("sendMessage"))
    standin.queue(private_message(user_id=BARRIER_USER, message_id=next(_barriers)))
    standin.wait_for("sendMessage", before + 1)


@contextmanager
def owned_intake(runtime: Runtime, standin: BotApiStandin) -> Iterator[TelegramIntake]:
    """The connector's intake without the polling loop, its posts sent as the test platform."""
    with runtime.factory() as session:
        (platform,) = auth.find_callers(session=session, name_or_id="test platform")
    api = BotApi(token=standin.token, api_url=standin.url, timeout=5)
    try:
        yield TelegramIntake(runtime, api, owner_id=platform.id)
    finally:
        api.close()
