"""The connector's loop: python-telegram-bot long-polls the Bot API (each batch's offset is
confirmed on the next call) and hands every update, as the Bot API's JSON, to the intake in a
thread of its own (synchronous SQLAlchemy), one update after the other."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from telegram import Update
from telegram.error import InvalidToken
from telegram.ext import Application, ContextTypes, ExtBot, TypeHandler
from telegram.request import HTTPXRequest

from tanggap.platforms.botapi import quiet_request_logs
from tanggap.telegram.intake import TelegramIntake, skip
from tanggap.telegram.updates import ALLOWED_UPDATES

log = structlog.get_logger(__name__)
# An update the library cannot read is replaced by one that carries only its id and this mark:
# its offset is confirmed like any other's, and the intake skips it.
MALFORMED = "tanggap_malformed"


class ConnectorBot(ExtBot[None]):
    """The library's bot, hardened at two points: an update it cannot parse no longer stops the
    batch it came in (the library would log the raw batch, personal data included, and fetch
    it again for ever); a refused token is reported without the token."""

    async def initialize(self) -> None:
        """Check the token (``getMe``); a refusal never quotes it."""
        try:
            await super().initialize()
        except InvalidToken:
            refused = "Telegram refused the bot's token (TANGGAP_TELEGRAM_TOKEN)"
            raise InvalidToken(refused) from None

    async def _post(self, endpoint: str, data: Any = None, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, **kwargs)
        if endpoint != "getUpdates" or not isinstance(result, list):
            return result
        return [self._readable(item) for item in result if _update_id(item) is not None]

    def _readable(self, item: Any) -> Any:
        try:
            Update.de_json(item, self)
        except Exception:
            return {"update_id": _update_id(item), MALFORMED: True}
        return item


def _update_id(item: Any) -> int | None:
    value = item.get("update_id") if isinstance(item, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def build_application(
    intake: TelegramIntake, *, token: str, api_url: str, timeout: float
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Return the library's application, pointed at ``api_url``, handing updates to ``intake``."""
    quiet_request_logs()
    base = api_url.rstrip("/")
    bot = ConnectorBot(
        token=token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=HTTPXRequest(connect_timeout=timeout, read_timeout=timeout),
        # A long poll holds its request open for up to ``POLL_SECONDS``.
        get_updates_request=HTTPXRequest(connect_timeout=timeout, read_timeout=timeout + 30),
    )
    application = Application.builder().bot(bot).build()

    async def on_update(update: object, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if not isinstance(update, Update):
            return
        if update.api_kwargs.get(MALFORMED):
            skip(update.update_id, None, "malformed: not readable as a Telegram update")
            return
        await asyncio.to_thread(intake.handle, update.to_dict())

    async def on_error(_update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        # The type only: a database error may quote the values it was given.
        log.error("telegram.update_failed", error=type(error).__name__)

    application.add_handler(TypeHandler(object, on_update))
    application.add_error_handler(on_error)
    return application


POLL_SECONDS = 25


async def run(
    intake: TelegramIntake,
    *,
    token: str,
    api_url: str,
    timeout: float,
    stopping: asyncio.Event,
    poll_seconds: int = POLL_SECONDS,
) -> None:
    """Long-poll until ``stopping`` is set; the update in hand is finished first, and the
    offsets of those taken are confirmed to Telegram before the return."""
    application = build_application(intake, token=token, api_url=api_url, timeout=timeout)
    async with application:
        updater = application.updater
        assert updater is not None
        await updater.start_polling(
            allowed_updates=list(ALLOWED_UPDATES), timeout=poll_seconds, poll_interval=0.0
        )
        await application.start()
        me = application.bot
        log.info("telegram.running", bot=me.username, allowed=list(ALLOWED_UPDATES))
        await stopping.wait()
        log.info("telegram.stopping")
        await updater.stop()
        await application.stop()
