"""``tanggap telegram run``: the Telegram connector, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal

import structlog
import typer
from telegram.error import InvalidToken, NetworkError

from tanggap.cli.common import fail, load_settings, runtime_for
from tanggap.platforms.telegram import bot_api
from tanggap.telegram.intake import TelegramIntake
from tanggap.telegram.port import PrivateChats
from tanggap.telegram.runner import run

log = structlog.get_logger(__name__)
telegram_app = typer.Typer(help="The Telegram connector: public chats in, takedowns out.")


@telegram_app.command("run")
def run_command() -> None:
    """Read the posts of the public chats the bot is an admin of, and answer its private chats,
    until stopped (token: TANGGAP_TELEGRAM_TOKEN, from the environment only)."""
    connect()


def connect(chats: PrivateChats | None = None) -> None:
    """Run the connector; ``chats`` answers private messages (instructions only when None)."""
    settings = load_settings()  # refuse bad settings before anything starts
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    if not token:
        fail("TANGGAP_TELEGRAM_TOKEN is not set: give the bot's token from @BotFather")
    with runtime_for(settings) as runtime:
        api = bot_api(settings)
        intake = (
            TelegramIntake(runtime, api) if chats is None else TelegramIntake(runtime, api, chats)
        )
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
