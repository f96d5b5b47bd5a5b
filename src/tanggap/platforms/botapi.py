"""A small synchronous client of Telegram's Bot API, for what runs outside the event loop: the
outbox's takedowns and bot messages, and the connector's database thread (files, member
counts).

The bot's token is part of every URL (``/bot<token>/<method>``): it never enters an error, a
log line or an exception message, and httpx's own request log is kept below INFO."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from tanggap.notify.chat import BotReply
from tanggap.outbox import DeliveryFailed, DeliveryRefused

MAX_DESCRIPTION = 300


def quiet_request_logs() -> None:
    """Keep httpx's request log below INFO (it names every URL, and the URL holds the token),
    and python-telegram-bot's debug log off (it quotes every update, senders included)."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    floor = max(logging.getLogger().getEffectiveLevel(), logging.INFO)
    logging.getLogger("telegram").setLevel(floor)


class FileTooLarge(Exception):
    """A file is larger than the caller's cap; it was not downloaded."""


@dataclass(frozen=True)
class ApiAnswer:
    """Telegram's refusal of a call: its error code, its words, its wait."""

    error_code: int
    description: str
    retry_after: float | None = None


class BotApi:
    """Calls the Bot API over one ``httpx.Client``; ``close`` releases it."""

    def __init__(
        self,
        *,
        token: str,
        api_url: str = "https://api.telegram.org",
        timeout: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        if not token:
            raise ValueError("TANGGAP_TELEGRAM_TOKEN is empty")
        quiet_request_logs()
        self._token = token
        self._base = api_url.rstrip("/")
        self._client = client or httpx.Client(timeout=timeout)

    def close(self) -> None:
        """Release the connections."""
        self._client.close()

    def _hide(self, text: str) -> str:
        """Return ``text`` without the token."""
        return text.replace(self._token, "[token]")

    def call(self, method: str, payload: dict[str, Any] | None = None) -> Any:
        """Call ``method`` with ``payload`` (JSON); return its ``result``. A 429 raises
        ``DeliveryFailed`` with Telegram's wait, another 4xx ``DeliveryRefused`` with its
        description, a 5xx or a network failure ``DeliveryFailed``."""
        url = f"{self._base}/bot{self._token}/{method}"
        try:
            response = self._client.post(url, json=payload or {})
        except httpx.HTTPError as exc:
            detail = self._hide(str(exc))[:MAX_DESCRIPTION]
            # ``from None``: a chained httpx error carries the request, and so the URL.
            raise DeliveryFailed(f"Telegram {method}: {type(exc).__name__}: {detail}") from None
        body = _json(response)
        if response.is_success and body.get("ok") is True:
            return body.get("result")
        answer = answer_of(response.status_code, body)
        message = f"Telegram {method}: {answer.error_code} {self._hide(answer.description)}"
        if answer.error_code == 429:
            raise DeliveryFailed(message, retry_after=answer.retry_after)
        if 400 <= answer.error_code < 500:
            raise DeliveryRefused(message)
        raise DeliveryFailed(message)

    def delete_message(self, *, chat_id: int | str, message_id: int) -> None:
        """Delete a message from a chat (the bot must be an admin with the delete right)."""
        self.call("deleteMessage", {"chat_id": chat_id, "message_id": message_id})

    def ban_chat_member(self, *, chat_id: int | str, user_id: int) -> None:
        """Ban a member from a group (the bot must be an admin with the ban right)."""
        self.call("banChatMember", {"chat_id": chat_id, "user_id": user_id})

    def unban_chat_member(self, *, chat_id: int | str, user_id: int) -> None:
        """Lift a member's ban from a group; a member who is not banned is left as they are."""
        self.call(
            "unbanChatMember", {"chat_id": chat_id, "user_id": user_id, "only_if_banned": True}
        )

    def send_message(self, reply: BotReply) -> int:
        """Send ``reply``, with its inline keyboard; return the sent message's id."""
        payload: dict[str, Any] = {"chat_id": reply.chat_id, "text": reply.text}
        if reply.reply_to_message_id is not None:
            payload["reply_parameters"] = {
                "message_id": reply.reply_to_message_id,
                "allow_sending_without_reply": True,
            }
        if reply.buttons:
            payload["reply_markup"] = {
                "inline_keyboard": [
                    [{"text": b.label, "callback_data": b.data} for b in row]
                    for row in reply.buttons
                ]
            }
        result = self.call("sendMessage", payload)
        return int(result["message_id"])

    def answer_callback_query(self, callback_query_id: str) -> None:
        """Tell Telegram a pressed button was seen (its spinner stops)."""
        self.call("answerCallbackQuery", {"callback_query_id": callback_query_id})

    @property
    def bot_id(self) -> int:
        """The bot's own user id (the token's first part)."""
        return int(self._token.split(":", 1)[0])

    def member_status(self, chat_id: int | str, user_id: int) -> str:
        """Return a user's status in a chat (``creator``, ``administrator``, ``member``…)."""
        found = self.call("getChatMember", {"chat_id": chat_id, "user_id": user_id})
        return str(found.get("status", "")) if isinstance(found, dict) else ""

    def chat_member_count(self, chat_id: int | str) -> int:
        """Return how many members (subscribers) a chat has."""
        return int(self.call("getChatMemberCount", {"chat_id": chat_id}))

    def download_file(self, file_id: str, *, max_bytes: int) -> bytes:
        """Return the bytes of a file (``getFile``, then its download path); raise
        ``FileTooLarge`` past ``max_bytes`` without keeping what came."""
        found = self.call("getFile", {"file_id": file_id})
        size = found.get("file_size")
        if isinstance(size, int) and size > max_bytes:
            raise FileTooLarge(f"the file has {size} bytes, more than {max_bytes}")
        path = found.get("file_path")
        if not isinstance(path, str) or not path:
            raise DeliveryFailed("Telegram getFile: no file_path (the file is not downloadable)")
        url = f"{self._base}/file/bot{self._token}/{path.lstrip('/')}"
        try:
            with self._client.stream("GET", url) as response:
                if not response.is_success:
                    raise DeliveryFailed(f"Telegram file download: HTTP {response.status_code}")
                data = bytearray()
                for chunk in response.iter_bytes():
                    data.extend(chunk)
                    if len(data) > max_bytes:
                        raise FileTooLarge(f"the file is larger than {max_bytes} bytes")
                return bytes(data)
        except httpx.HTTPError as exc:
            detail = self._hide(str(exc))[:MAX_DESCRIPTION]
            message = f"Telegram file download: {type(exc).__name__}: {detail}"
            raise DeliveryFailed(message) from None


def _json(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or an empty one when it is not JSON."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def answer_of(status: int, body: dict[str, Any]) -> ApiAnswer:
    """Read Telegram's refusal (``ok: false``) from an answer's status and JSON body."""
    code = body.get("error_code")
    description = body.get("description")
    parameters = body.get("parameters")
    retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
    return ApiAnswer(
        error_code=code if isinstance(code, int) else status,
        description=(description if isinstance(description, str) else f"HTTP {status}")[
            :MAX_DESCRIPTION
        ],
        retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
    )
