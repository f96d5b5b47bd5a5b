"""Telegram updates read as plain data: pure functions over the update's JSON object (the Bot
API's wire format), no library types, so every case is easy to test.

A post of a public chat (one with a ``username``) becomes a ``ChatPost``; a private message or a
pressed button becomes a ``PrivateMessage`` for the flaggers' bot; anything else is ``Skipped``
with a reason that holds no personal data (no names, no ids of people, no text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tanggap.telegram.port import PrivateMessage
from tanggap.validation import HANDLE_RE

POST_KINDS = ("channel_post", "edited_channel_post", "message", "edited_message")
# What the runner asks Telegram for (getUpdates' allowed_updates).
ALLOWED_UPDATES = (*POST_KINDS, "callback_query")
PUBLIC_TYPES = frozenset({"channel", "supergroup", "group"})
GROUP_TYPES = frozenset({"supergroup", "group"})


@dataclass(frozen=True)
class Photo:
    """The size of a photo chosen to fetch: its file id and, when Telegram said, its size."""

    file_id: str
    file_size: int | None


@dataclass(frozen=True)
class ChatPost:
    """A post of a public channel or group, as Tanggap stores it."""

    update_id: int
    kind: str
    chat_id: int
    handle: str
    title: str | None
    message_id: int
    text: str
    posted_at: datetime
    author_id: str  # the sender's Telegram id: for ``PostIn.author_id`` only (pseudonymised)
    # A group member's own id (not a channel's, not an anonymous admin's): kept only sealed.
    member_id: int | None = None
    photo: Photo | None = None
    photo_skipped: str | None = None  # why a photo that came with the post is not fetched


@dataclass(frozen=True)
class Pressed:
    """A button pressed in a private chat: the query to answer, and the message it makes."""

    callback_query_id: str
    message: PrivateMessage


@dataclass(frozen=True)
class Skipped:
    """An update Tanggap does not take, and why (never personal data)."""

    update_id: int | None
    reason: str
    kind: str | None = None


Read = ChatPost | PrivateMessage | Pressed | Skipped


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _object(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def read_update(update: Any, *, max_photo_bytes: int) -> Read:
    """Return what an update is: a public chat's post, a private message, a pressed button, or
    skipped with the reason."""
    if not isinstance(update, dict) or _int(update.get("update_id")) is None:
        return Skipped(None, "malformed: no update_id")
    update_id = update["update_id"]
    for kind in POST_KINDS:
        if kind in update:
            return _message(update_id, kind, update[kind], max_photo_bytes)
    if "callback_query" in update:
        return _pressed(update_id, update["callback_query"])
    other = next(iter(sorted(update.keys() - {"update_id"})), None)
    return Skipped(update_id, "not a kind Tanggap reads", str(other)[:40] if other else None)


def _message(update_id: int, kind: str, message: Any, max_photo_bytes: int) -> Read:
    message = _object(message)
    chat = _object(message.get("chat")) if message else None
    message_id = _int(message.get("message_id")) if message else None
    date = _int(message.get("date")) if message else None
    if message is None or chat is None or message_id is None or message_id < 1 or date is None:
        return Skipped(update_id, "malformed: no message, chat, message_id or date", kind)
    chat_id, chat_type = _int(chat.get("id")), chat.get("type")
    if chat_id is None or not isinstance(chat_type, str):
        return Skipped(update_id, "malformed: no chat id or type", kind)
    if chat_type == "private":
        return _private(update_id, kind, message, chat_id, message_id)
    username = chat.get("username")
    if chat_type not in PUBLIC_TYPES or not isinstance(username, str):
        return Skipped(update_id, "not a public chat (no username)", kind)
    if not HANDLE_RE.match(username):
        return Skipped(update_id, "malformed: the chat's username is not a handle", kind)
    author = _author(message)
    if author is None:
        return Skipped(update_id, "malformed: no sender", kind)
    text = message.get("text", message.get("caption", ""))
    if not isinstance(text, str):
        return Skipped(update_id, "malformed: text is not a string", kind)
    photo, photo_skipped = _photo(message.get("photo"), max_photo_bytes)
    if not text.strip() and photo is None:
        why = photo_skipped or "no text and no photo (stickers, videos and files are not read)"
        return Skipped(update_id, why, kind)
    title = chat.get("title")
    return ChatPost(
        update_id=update_id,
        kind=kind,
        chat_id=chat_id,
        handle=username.lower(),
        title=title[:255] if isinstance(title, str) else None,
        message_id=message_id,
        text=text,
        posted_at=datetime.fromtimestamp(date, UTC),
        author_id=author,
        member_id=_member(message) if chat_type in GROUP_TYPES else None,
        photo=photo,
        photo_skipped=photo_skipped,
    )


def _author(message: dict[str, Any]) -> str | None:
    """The sender's id: the chat that speaks (a channel, an anonymous admin), else the user."""
    for key in ("sender_chat", "from"):
        sender = _object(message.get(key))
        sender_id = _int(sender.get("id")) if sender else None
        if sender_id is not None:
            return str(sender_id)
    return None


def _member(message: dict[str, Any]) -> int | None:
    """The id of the user who posted in a group, when a user did (not a chat speaking)."""
    if _object(message.get("sender_chat")) is not None:
        return None
    sender = _object(message.get("from"))
    return _int(sender.get("id")) if sender else None


def _photo(sizes: Any, max_bytes: int) -> tuple[Photo | None, str | None]:
    """The largest size of a photo under ``max_bytes``, or why none is taken."""
    if sizes is None:
        return None, None
    if not isinstance(sizes, list):
        return None, "malformed photo"
    found = []
    for size in sizes:
        size = _object(size)
        file_id = size.get("file_id") if size else None
        if size is None or not isinstance(file_id, str) or not file_id:
            return None, "malformed photo"
        area = (_int(size.get("width")) or 0) * (_int(size.get("height")) or 0)
        found.append((area, _int(size.get("file_size")), file_id))
    fitting = [s for s in found if s[1] is None or s[1] <= max_bytes]
    if not fitting:
        return None, f"photo skipped: every size is larger than {max_bytes} bytes"
    _, file_size, file_id = max(fitting, key=lambda s: (s[0], s[1] or 0))
    return Photo(file_id, file_size), None


def _private(
    update_id: int, kind: str, message: dict[str, Any], chat_id: int, message_id: int
) -> Read:
    """A message in a private chat with the bot (an edit is not answered)."""
    sender = _object(message.get("from"))
    user_id = _int(sender.get("id")) if sender else None
    if kind != "message":
        return Skipped(update_id, "an edit in a private chat", kind)
    if user_id is None or sender is None or sender.get("is_bot") is True:
        return Skipped(update_id, "private message without a human sender", kind)
    text = message.get("text", "")
    reply_to = _object(message.get("reply_to_message"))
    language = sender.get("language_code")
    return PrivateMessage(
        user_id=user_id,
        chat_id=chat_id,
        message_id=message_id,
        text=text if isinstance(text, str) else "",
        reply_to_message_id=_int(reply_to.get("message_id")) if reply_to else None,
        language_code=language if isinstance(language, str) else None,
    )


def _pressed(update_id: int, query: Any) -> Read:
    """A pressed inline button, in a private chat with the bot."""
    query = _object(query)
    query_id = query.get("id") if query else None
    sender = _object(query.get("from")) if query else None
    message = _object(query.get("message")) if query else None
    chat = _object(message.get("chat")) if message else None
    data = query.get("data") if query else None
    if not isinstance(query_id, str) or sender is None or message is None or chat is None:
        return Skipped(update_id, "malformed: callback query", "callback_query")
    user_id, chat_id = _int(sender.get("id")), _int(chat.get("id"))
    message_id = _int(message.get("message_id"))
    if user_id is None or chat_id is None or message_id is None or not isinstance(data, str):
        return Skipped(update_id, "malformed: callback query", "callback_query")
    if chat.get("type") != "private":
        return Skipped(update_id, "a button outside a private chat", "callback_query")
    language = sender.get("language_code")
    return Pressed(
        callback_query_id=query_id,
        message=PrivateMessage(
            user_id=user_id,
            chat_id=chat_id,
            message_id=message_id,
            text="",
            language_code=language if isinstance(language, str) else None,
            pressed=data,
        ),
    )
