"""Takedowns on Telegram through the Bot API, and what the Bot API cannot do.

The bot is an admin of the public channels and groups it moderates: it can delete a message
(``deleteMessage``) and ban a member of a group (``banChatMember``). It cannot restrict a message
to some countries, ban a public channel, or bring back a deleted message: those are refused when
the decision is made (``refusal``, checked by the review workflow), never pretended here."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from tanggap.actions.models import ActionKind
from tanggap.actions.platform import PlatformAction
from tanggap.config import Settings
from tanggap.outbox import DeliveryRefused
from tanggap.platforms.botapi import BotApi

log = structlog.get_logger(__name__)
TELEGRAM = "telegram"
# Telegram's words when the message is gone already (deleted by hand, by its author, or by an
# earlier attempt whose answer was lost): the takedown holds.
_GONE = ("message to delete not found",)

CANNOT: dict[ActionKind, str] = {
    "geo_restrict_post": "Telegram's Bot API cannot restrict a message to some countries",
    "ban_channel": "Telegram's Bot API cannot ban a public channel",
    "restore_post": "Telegram's Bot API cannot restore a deleted message",
    "restore_channel": "Telegram's Bot API cannot lift a ban it cannot place on a channel",
}


def platform_of(channel_platform: str | None, default: str) -> str:
    """Return the platform a channel lives on: its own, or the configured default."""
    return channel_platform or default


def refusal(*, platform: str, kind: ActionKind) -> str | None:
    """Return why ``platform`` cannot apply an action of ``kind``, or None when it can."""
    return CANNOT.get(kind) if platform == TELEGRAM else None


def chat_of(action: PlatformAction) -> int | str:
    """Return the chat an action is about: Telegram's chat id when known, else ``@handle``."""
    if action.channel_ref:
        try:
            return int(action.channel_ref)
        except ValueError:
            return action.channel_ref
    return f"@{action.channel}"


@dataclass
class TelegramAdapter:
    """Applies takedowns on Telegram; what the Bot API cannot do is refused for good."""

    api: BotApi

    def apply(self, action: PlatformAction) -> None:
        """Delete the message of a ``remove_post``; refuse every other kind."""
        if action.kind != "remove_post":
            reason = CANNOT.get(action.kind, f"Telegram takes no {action.kind} action")
            raise DeliveryRefused(reason)
        if action.message_id is None:
            raise DeliveryRefused("a removal needs the message id")
        try:
            self.api.delete_message(chat_id=chat_of(action), message_id=action.message_id)
        except DeliveryRefused as exc:
            if not any(words in str(exc).lower() for words in _GONE):
                raise
            log.info("telegram.message_already_gone", action_id=action.idempotency_key)


def bot_api(settings: Settings) -> BotApi:
    """Return a Bot API client for the configured bot; refuse, naming the setting, without a
    token."""
    if settings.telegram_token is None or not settings.telegram_token.get_secret_value():
        raise ValueError("TANGGAP_TELEGRAM_TOKEN is not set (the bot's token from @BotFather)")
    return BotApi(
        token=settings.telegram_token.get_secret_value(),
        api_url=settings.telegram_api_url,
        timeout=settings.telegram_timeout_seconds,
    )


def telegram_adapter(settings: Settings) -> TelegramAdapter:
    """Return the adapter that carries takedowns to the configured bot's chats."""
    return TelegramAdapter(bot_api(settings))
