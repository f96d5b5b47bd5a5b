"""The seam between the Telegram transport (the bot's updates) and what Tanggap answers in a
private chat: plain data both ways, no library types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tanggap.notify.chat import BotReply


@dataclass(frozen=True)
class PrivateMessage:
    """A message (or a pressed button) in a private chat with the bot.

    ``user_id`` is the sender's Telegram id; it is kept only for a flagger who linked their
    account, never for anyone else. ``pressed`` is the data of a pressed inline button (then
    ``text`` is empty)."""

    user_id: int
    chat_id: int
    message_id: int
    text: str
    reply_to_message_id: int | None = None
    language_code: str | None = None
    pressed: str | None = None


class PrivateChats(Protocol):
    """Answers what people write to the bot in private (the flaggers' direct channel)."""

    def handle(self, message: PrivateMessage) -> list[BotReply]:
        """Return the replies to ``message``; must change nothing for an unknown sender."""
