"""``tanggap telegram run``: the Telegram connector, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Callable

import structlog
import typer
from sqlalchemy.exc import SQLAlchemyError
from telegram.error import InvalidToken, NetworkError

from tanggap.auth import service as auth
from tanggap.cli.common import fail, load_settings, runtime_for
from tanggap.platforms.botapi import BotApi
from tanggap.platforms.telegram import bot_api
from tanggap.runtime import Runtime
from tanggap.telegram.conversation import FlaggerBot
from tanggap.telegram.intake import Instructions, TelegramIntake
from tanggap.telegram.port import PrivateChats
from tanggap.telegram.runner import run

log = structlog.get_logger(__name__)
telegram_app = typer.Typer(help="The Telegram connector: public chats in, takedowns out.")


@telegram_app.command("run")
def run_command() -> None:
    """Read the posts of the public chats the bot is an admin of, and answer its private chats,
    until stopped (token: TANGGAP_TELEGRAM_TOKEN, from the environment only)."""
    connect(make_chats=lambda runtime, api: FlaggerBot.for_runtime(runtime))


# Builds what answers the bot's private chats from the process's runtime and Bot API client.
ChatsFactory = Callable[[Runtime, BotApi], PrivateChats]


def connect(make_chats: ChatsFactory | None = None) -> None:
    """Run the connector; ``make_chats`` builds what answers private messages (instructions
    only, to anyone, when None)."""
    settings = load_settings()  # refuse bad settings before anything starts
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    if not token:
        fail("TANGGAP_TELEGRAM_TOKEN is not set: give the bot's token from @BotFather")
    with runtime_for(settings) as runtime:
        owner = _principal(runtime, settings.telegram_principal)
        api = bot_api(settings)
        chats = make_chats(runtime, api) if make_chats is not None else Instructions()
        intake = TelegramIntake(runtime, api, chats, owner_id=owner)
        runtime.pipeline.warm_up()  # before the first post, not during it
        try:
            asyncio.run(_until_stopped(intake, token, settings.telegram_api_url))
        except InvalidToken:
            fail("TANGGAP_TELEGRAM_TOKEN: Telegram refused the bot's token")
        except NetworkError as exc:
            fail(f"TANGGAP_TELEGRAM_API_URL: cannot reach the Bot API ({type(exc).__name__})")
        finally:
            api.close()
    log.info("telegram.stopped")


def _principal(runtime: Runtime, name_or_id: str | None) -> uuid.UUID | None:
    """The platform principal TANGGAP_TELEGRAM_PRINCIPAL names, or exit saying why not."""
    if name_or_id is None:
        return None
    try:
        with runtime.factory() as session:
            found = auth.find_callers(session=session, name_or_id=name_or_id)
    except SQLAlchemyError as exc:
        fail(f"TANGGAP_DATABASE_URL: cannot read the principals: {type(exc).__name__}")
    platforms = [caller for caller in found if caller.role == "platform"]
    if len(platforms) != 1:
        fail(
            f"TANGGAP_TELEGRAM_PRINCIPAL: {name_or_id!r} names {len(platforms)} enabled platform "
            "principals; give the id or name of one (`tanggap token create --role platform`)"
        )
    return platforms[0].id


async def _until_stopped(intake: TelegramIntake, token: str, api_url: str) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stop(signum: signal.Signals) -> None:
        log.info("telegram.stopping", signal=signum.name)
        stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop, signum)
    await run(
        intake,
        token=token,
        api_url=api_url,
        timeout=intake.runtime.settings.telegram_timeout_seconds,
        stopping=stopping,
    )
