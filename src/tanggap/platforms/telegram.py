"""Takedowns on Telegram through the Bot API, and what the Bot API cannot do.

The bot is an admin of the public channels and groups it moderates: it can delete a message
(``deleteMessage``) and ban a member of a group (``banChatMember``, the member's id unsealed from
what the connector kept, ``platforms.sealing``) or lift that ban (``unbanChatMember``). It cannot
restrict a message to some countries, ban a public channel, or bring back a deleted message: those
are refused when the decision is made (``refusal``, checked by the review workflow), never
pretended here. Only Telegram can ban a post's author: every other platform refuses it."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from tanggap.actions.models import ActionKind
from tanggap.actions.platform import PlatformAction
from tanggap.actions.service import MEMBER_KINDS
from tanggap.config import Settings
from tanggap.outbox import DeliveryRefused
from tanggap.platforms.botapi import BotApi
from tanggap.platforms.sealing import MemberSeal, SealBroken

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
ONLY_TELEGRAM = "only a Telegram group's member can be banned by Tanggap"


def platform_of(channel_platform: str | None, default: str) -> str:
    """Return the platform a channel lives on: its own, or the configured default."""
    return channel_platform or default


def refusal(*, platform: str, kind: ActionKind) -> str | None:
    """Return why ``platform`` cannot apply an action of ``kind``, or None when it can."""
    if platform != TELEGRAM:
        return ONLY_TELEGRAM if kind in MEMBER_KINDS else None
    return CANNOT.get(kind)


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
    seal: MemberSeal | None = None

    def apply(self, action: PlatformAction) -> None:
        """Delete the message of a ``remove_post``, ban or unban the author of a ``ban_member``
        or ``unban_member``; refuse every other kind."""
        if action.kind in MEMBER_KINDS:
            self._member(action)
            return
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

    def close(self) -> None:
        """Release the connections to the Bot API."""
        self.api.close()

    def _member(self, action: PlatformAction) -> None:
        """Ban (or unban) the post's author from the group, by the id the connector sealed."""
        chat_ref, author_ref = action.channel_ref, action.member_ref
        if self.seal is None or chat_ref is None or author_ref is None or not action.sealed_member:
            raise DeliveryRefused("Tanggap holds no Telegram id for this post's author")
        try:
            user_id = self.seal.open(
                chat_ref=chat_ref, author_ref=author_ref, sealed=action.sealed_member
            )
        except SealBroken as exc:
            raise DeliveryRefused(str(exc)) from None
        chat_id = chat_of(action)
        if action.kind == "ban_member":
            self.api.ban_chat_member(chat_id=chat_id, user_id=user_id)
        else:
            self.api.unban_chat_member(chat_id=chat_id, user_id=user_id)


def member_seal(settings: Settings) -> MemberSeal | None:
    """Return the seal of the configured bot's member ids, or None without a token."""
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    if not token:
        return None
    return MemberSeal.of(bot_token=token, secret_key=settings.secret_key)


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
    return TelegramAdapter(bot_api(settings), member_seal(settings))
