"""Messages a bot sends into a chat (Telegram's ``sendMessage``), as plain data, and the port
that sends them: the flaggers' bot replies and notices go through it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Button:
    """One inline keyboard button: what it shows, and the data it sends back when pressed."""

    label: str
    data: str


@dataclass(frozen=True)
class BotReply:
    """A message the bot sends: to a chat, maybe as a reply, maybe with inline buttons."""

    chat_id: int
    text: str
    reply_to_message_id: int | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()


class BotSender(Protocol):
    """Sends bot messages; synchronous, called outside any database transaction (the outbox
    and the bot's own replies)."""

    def send_message(self, reply: BotReply) -> int:
        """Send ``reply``; return the platform's id of the sent message. Raise
        ``DeliveryFailed`` (with ``retry_after`` when told to wait) or ``DeliveryRefused``."""
