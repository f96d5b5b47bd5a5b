"""The connector's loop: python-telegram-bot's bot long-polls the Bot API, and every update, as
the Bot API's JSON, goes to the intake in a thread of its own (synchronous SQLAlchemy), one after
the other. An update's offset is confirmed to Telegram only once the intake took it (stored,
answered or skipped): a crash, or a database that is away, has it fetched again, and taking it
again changes nothing (a post is idempotent on its chat and message id)."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import ExtBot
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


def connector_bot(*, token: str, api_url: str, timeout: float) -> ConnectorBot:
    """Return the library's bot, pointed at ``api_url``."""
    quiet_request_logs()
    base = api_url.rstrip("/")
    return ConnectorBot(
        token=token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=HTTPXRequest(connect_timeout=timeout, read_timeout=timeout),
        # A long poll holds its request open for up to ``POLL_SECONDS``.
        get_updates_request=HTTPXRequest(connect_timeout=timeout, read_timeout=timeout + 30),
    )


POLL_SECONDS = 25
# An update whose intake fails for another reason than the database is tried this many times,
# then skipped (logged): one update must not stop every chat behind it. While the database is
# away, the update waits for it however long that takes.
ATTEMPTS = 5
WAIT_CAP_SECONDS = 30.0


async def run(
    intake: TelegramIntake,
    *,
    token: str,
    api_url: str,
    timeout: float,
    stopping: asyncio.Event,
    poll_seconds: int = POLL_SECONDS,
    first_wait: float = 0.5,
) -> None:
    """Long-poll until ``stopping`` is set; the update in hand is finished first, and the
    offsets of those taken are confirmed to Telegram before the return."""
    bot = connector_bot(token=token, api_url=api_url, timeout=timeout)
    async with bot:
        log.info("telegram.running", bot=bot.username, allowed=list(ALLOWED_UPDATES))
        offset: int | None = None
        failures = 0
        while not stopping.is_set():
            poll = asyncio.ensure_future(
                bot.get_updates(
                    offset=offset, timeout=poll_seconds, allowed_updates=list(ALLOWED_UPDATES)
                )
            )
            if not await _first(poll, stopping):
                break
            try:
                updates = poll.result()
            except TelegramError as exc:  # Telegram away or busy: ask again after a wait
                failures += 1
                wait = getattr(exc, "retry_after", None) or _backoff(first_wait, failures)
                log.warning("telegram.poll_failed", error=type(exc).__name__, attempt=failures)
                await _wait(stopping, float(wait))
                continue
            failures = 0
            for update in updates:
                if not await _take(intake, update, stopping, first_wait):
                    break  # stopping while the update waited for the database
                offset = update.update_id + 1
        log.info("telegram.stopping")
        if offset is not None:
            # Confirms every update below ``offset``; what it returns stays unconfirmed.
            try:
                await bot.get_updates(offset=offset, timeout=0, limit=1)
            except TelegramError as exc:  # the next start takes them again: nothing is lost
                log.warning("telegram.confirm_failed", error=type(exc).__name__)


async def _first(poll: asyncio.Future[Any], stopping: asyncio.Event) -> bool:
    """Wait for the poll or the stop, whichever comes first; True if the poll answered."""
    stop = asyncio.ensure_future(stopping.wait())
    done, _ = await asyncio.wait({poll, stop}, return_when=asyncio.FIRST_COMPLETED)
    if poll in done:
        stop.cancel()
        return True
    poll.cancel()
    return False


async def _take(
    intake: TelegramIntake, update: Update, stopping: asyncio.Event, first_wait: float
) -> bool:
    """Hand ``update`` to the intake until it is taken; False if stopping came first."""
    if update.api_kwargs.get(MALFORMED):
        skip(update.update_id, None, "malformed: not readable as a Telegram update")
        return True
    attempt = 0
    while True:
        attempt += 1
        try:
            await asyncio.to_thread(intake.handle, update.to_dict())
            return True
        except Exception as exc:  # the type only: a database error may quote what it was given
            # The database away (a lost connection, a server restarting): wait for it. Any other
            # error, an integrity or data error included, would come again: counted.
            database = isinstance(exc, OperationalError | InterfaceError) or (
                isinstance(exc, DBAPIError) and exc.connection_invalidated
            )
            log.error(
                "telegram.update_failed",
                update_id=update.update_id,
                attempt=attempt,
                error=type(exc).__name__,
            )
            if not database and attempt >= ATTEMPTS:
                skip(update.update_id, None, f"failed {attempt} times: {type(exc).__name__}")
                return True
        if await _wait(stopping, _backoff(first_wait, attempt)):
            return False


def _backoff(first: float, attempt: int) -> float:
    return float(min(first * 2 ** (attempt - 1), WAIT_CAP_SECONDS))


async def _wait(stopping: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds``, or less if stopping comes; True if it did."""
    try:
        await asyncio.wait_for(stopping.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True
