"""Talk to the flaggers' bot as Telegram's transport would, and link members through the portal."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from fastapi.testclient import TestClient

from tanggap.notify.chat import BotReply
from tanggap.runtime import Runtime
from tanggap.telegram.conversation import FlaggerBot
from tanggap.telegram.port import PrivateMessage
from tests.portal_helpers import form_value, signed_in

_message_ids = itertools.count(1)


@dataclass
class RecordingSender:
    """Stands in for the Bot API client: keeps every message and answers a fresh message id."""

    sent: list[tuple[int, BotReply]] = field(default_factory=list)
    next_id: int = 5000

    def send_message(self, reply: BotReply) -> int:
        """Record ``reply``; return the id Telegram would give it."""
        self.next_id += 1
        self.sent.append((self.next_id, reply))
        return self.next_id


def say(
    bot: FlaggerBot,
    user_id: int,
    text: str = "",
    *,
    reply_to: int | None = None,
    pressed: str | None = None,
    language_code: str | None = None,
) -> list[BotReply]:
    """Send the bot a private message (or a pressed button) from Telegram user ``user_id``."""
    return bot.handle(
        PrivateMessage(
            user_id=user_id,
            chat_id=user_id,  # a private chat's id is its user's
            message_id=next(_message_ids),
            text=text,
            reply_to_message_id=reply_to,
            language_code=language_code,
            pressed=pressed,
        )
    )


def text_of(replies: list[BotReply]) -> str:
    """Return the text of every reply, joined."""
    return "\n".join(reply.text for reply in replies)


def portal_code(browser: TestClient, csrf: str) -> str:
    """Ask the portal's Telegram page for a link code; return it."""
    page = browser.post("/portal/telegram/code", data={"csrf_token": csrf})
    assert page.status_code == 200, page.text
    found = re.search(r"<code data-code>/start ([A-Z0-9]+)</code>", page.text)
    assert found, "no code on the page"
    bot = re.search(r'href="https://t.me/(\w+)\?start=([A-Z0-9]+)"', page.text)
    assert bot is None or bot.group(2) == found.group(1)
    return found.group(1)


@dataclass
class Member:
    """A signed-in portal member: their browser, its CSRF token, their Telegram user id."""

    browser: TestClient
    csrf: str
    user_id: int


def linked_member(
    bot: FlaggerBot, client: TestClient, runtime: Runtime, org: str, email: str, user_id: int
) -> Member:
    """Sign a new member of ``org`` into the portal and link Telegram user ``user_id``."""
    browser = TestClient(client.app, raise_server_exceptions=False)
    csrf = signed_in(browser, runtime, org, email)
    code = portal_code(browser, csrf)
    replies = say(bot, user_id, f"/start {code}")
    assert len(replies) == 1 and org in replies[0].text, replies
    csrf = form_value(browser.get("/portal/telegram").text, "csrf_token")
    return Member(browser=browser, csrf=csrf, user_id=user_id)
