"""A stand-in of Telegram's Bot API: a real HTTP server on 127.0.0.1 speaking the Bot API's wire
format (``{"ok": true, "result": ...}`` / ``{"ok": false, "error_code", "description",
"parameters": {"retry_after"}}``), under ``/bot<token>/<method>`` and ``/file/bot<token>/<path>``.

The test drives it: ``queue`` updates (``channel_post``, ``group_message``, ``private_message``
build them), ``refuse_next`` a method's next answers, ``add_file`` a photo, read ``calls`` or
``wait_for`` them. ``getUpdates`` long-polls on a condition variable: it answers as soon as an
update is queued, or when its ``timeout`` runs out. Deleting a message twice is refused as
Telegram does ("message to delete not found")."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

TOKEN = "123456:standin-token-AAAAAAAAAAAAAAAAAAAAAAAA"
BOT = {"id": 123456, "is_bot": True, "first_name": "Tanggap", "username": "tanggap_test_bot"}


@dataclass(frozen=True)
class Call:
    """One call the stand-in answered: the method and its parameters (JSON values decoded)."""

    method: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Refusal:
    """An answer ``ok: false`` to give instead of the usual one."""

    error_code: int
    description: str
    retry_after: int | None = None


@dataclass
class BotApiStandin:
    """The Bot API's state as the test sets it; ``url`` is the API's base URL."""

    token: str = TOKEN
    url: str = ""
    member_counts: dict[int, int] = field(default_factory=dict)
    # The chats whose admin the bot is not (it is an admin of every other chat).
    not_admin_of: set[int] = field(default_factory=set)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _calls: list[Call] = field(default_factory=list)
    _refusals: dict[str, list[Refusal]] = field(default_factory=dict)
    _files: dict[str, tuple[str, bytes, int]] = field(default_factory=dict)
    _deleted: set[tuple[str, int]] = field(default_factory=set)
    _sent: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _closing: bool = False
    confirmed: int = 0  # every update below this id was confirmed by a getUpdates offset

    # What the test does.
    def queue(self, *updates: dict[str, Any]) -> list[int]:
        """Queue updates (given without ``update_id``, or with one); return their ids."""
        with self._changed:
            ids = []
            for update in updates:
                update_id = update.get("update_id", next(self._ids))
                self._updates.append({**update, "update_id": update_id})
                ids.append(update_id)
            self._changed.notify_all()
        return ids

    def refuse_next(self, method: str, *refusals: Refusal) -> None:
        """Answer the next calls of ``method`` with these refusals, one each, in order."""
        with self._changed:
            self._refusals.setdefault(method, []).extend(refusals)

    def add_file(self, file_id: str, data: bytes, *, file_size: int | None = None) -> None:
        """Serve ``data`` for ``file_id`` (``getFile`` says ``file_size``, by default its size)."""
        with self._changed:
            path = f"photos/file_{len(self._files)}.jpg"
            self._files[file_id] = (path, data, len(data) if file_size is None else file_size)

    def calls(self, method: str | None = None) -> list[Call]:
        """Return the calls answered so far (of ``method`` only, when given)."""
        with self._changed:
            return [c for c in self._calls if method is None or c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 15.0) -> list[Call]:
        """Wait until ``method`` was called ``count`` times; return those calls."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(found := [c for c in self._calls if c.method == method]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{method} called {len(found)} times, not {count}")
                self._changed.wait(left)
            return found

    def wait_confirmed(self, update_id: int, timeout: float = 15.0) -> None:
        """Wait until a getUpdates offset confirmed ``update_id``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.confirmed <= update_id:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"update {update_id} not confirmed")
                self._changed.wait(left)

    def close(self) -> None:
        """Release every waiting long poll."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()

    # What the server does.
    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Return the status and JSON body of the answer to one call."""
        if method == "getUpdates":
            result: Any = self._get_updates(params)
            with self._changed:
                self._calls.append(Call(method, params))
                self._changed.notify_all()
            return 200, {"ok": True, "result": result}
        with self._changed:
            self._calls.append(Call(method, params))
            self._changed.notify_all()
            waiting = self._refusals.get(method)
            if waiting:
                refusal = waiting.pop(0)
                body: dict[str, Any] = {
                    "ok": False,
                    "error_code": refusal.error_code,
                    "description": refusal.description,
                }
                if refusal.retry_after is not None:
                    body["parameters"] = {"retry_after": refusal.retry_after}
                return refusal.error_code, body
            return self._result(method, params)

    def _result(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "getMe":
            return 200, {"ok": True, "result": BOT}
        if method in (
            "deleteWebhook",
            "banChatMember",
            "unbanChatMember",
            "answerCallbackQuery",
            "close",
        ):
            return 200, {"ok": True, "result": True}
        if method == "deleteMessage":
            key = (str(params.get("chat_id")), int(params.get("message_id", 0)))
            if key in self._deleted:
                return _bad_request("Bad Request: message to delete not found")
            self._deleted.add(key)
            return 200, {"ok": True, "result": True}
        if method == "sendMessage":
            message = {
                "message_id": next(self._sent),
                "date": int(time.time()),
                "chat": {"id": params.get("chat_id"), "type": "private"},
                "text": params.get("text", ""),
            }
            return 200, {"ok": True, "result": message}
        if method == "getChatMember":
            chat_id, user_id = params.get("chat_id"), params.get("user_id")
            admin = user_id == BOT["id"] and chat_id not in self.not_admin_of
            member = {"user": {"id": user_id, "is_bot": user_id == BOT["id"], "first_name": "x"}}
            if admin:
                member |= {"status": "administrator", "can_delete_messages": True}
            else:
                member |= {"status": "member"}
            return 200, {"ok": True, "result": member}
        if method == "getChatMemberCount":
            return 200, {"ok": True, "result": self.member_counts.get(params.get("chat_id"), 0)}
        if method == "getFile":
            found = self._files.get(str(params.get("file_id")))
            if found is None:
                return _bad_request("Bad Request: invalid file_id")
            path, _, size = found
            file = {"file_id": params["file_id"], "file_unique_id": "u", "file_size": size}
            return 200, {"ok": True, "result": {**file, "file_path": path}}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        with self._changed:
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                self.confirmed = max(self.confirmed, offset)
                self._changed.notify_all()
            while not self._updates and not self._closing:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return list(self._updates[: int(params.get("limit") or 100)])

    def file(self, path: str) -> bytes | None:
        """Return the bytes served at a file path."""
        with self._changed:
            return next((data for p, data, _ in self._files.values() if p == path), None)


def _bad_request(description: str) -> tuple[int, dict[str, Any]]:
    return 400, {"ok": False, "error_code": 400, "description": description}


def _params(handler: BaseHTTPRequestHandler) -> dict[str, Any]:
    """The call's parameters from the query, a JSON body or a form (values JSON-decoded)."""
    found: dict[str, Any] = dict(parse_qsl(urlsplit(handler.path).query))
    length = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(length) if length else b""
    kind = handler.headers.get("Content-Type", "")
    if body and kind.startswith("application/json"):
        found.update(json.loads(body))
    elif body:
        found.update(parse_qsl(body.decode()))
    return {key: _decoded(value) for key, value in found.items()}


def _decoded(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def serve(standin: BotApiStandin) -> ThreadingHTTPServer:
    """Start ``standin`` on a free loopback port (its ``url`` is set); return the server."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (a long poll cancelled)

        def _route(self) -> None:
            path = urlsplit(self.path).path
            file_prefix = f"/file/bot{standin.token}/"
            if path.startswith(file_prefix):
                data = standin.file(path.removeprefix(file_prefix))
                if data is None:
                    self._send(404, b"Not Found", "text/plain")
                else:
                    self._send(200, data, "application/octet-stream")
                return
            prefix, _, method = path.rpartition("/")
            params = _params(self)
            if prefix != f"/bot{standin.token}":
                refused = {"ok": False, "error_code": 401, "description": "Unauthorized"}
                self._send(401, json.dumps(refused).encode())
                return
            status, answer = standin.answer(method, params)
            self._send(status, json.dumps(answer).encode())

        do_GET = do_POST = _route

        def handle_one_request(self) -> None:
            try:
                super().handle_one_request()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client went away (a long poll cancelled)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# Updates as Telegram sends them.
def _chat(chat_id: int, username: str | None, kind: str, title: str) -> dict[str, Any]:
    chat: dict[str, Any] = {"id": chat_id, "type": kind, "title": title}
    if username is not None:
        chat["username"] = username
    return chat


def channel_post(
    *,
    chat_id: int = -1001234567890,
    username: str | None = "BeritaPublik",
    message_id: int = 7,
    text: str | None = "Promo judi online, daftar sekarang",
    photo: list[dict[str, Any]] | None = None,
    edited: bool = False,
    date: int | None = None,
) -> dict[str, Any]:
    """A post in a channel (an edit of one when ``edited``)."""
    chat = _chat(chat_id, username, "channel", "Berita Publik")
    message: dict[str, Any] = {
        "message_id": message_id,
        "sender_chat": chat,
        "chat": chat,
        "date": date or int(time.time()) - 60,
    }
    if photo is not None:
        message["photo"] = photo
        if text is not None:
            message["caption"] = text
    elif text is not None:
        message["text"] = text
    if edited:
        message["edit_date"] = int(time.time())
    return {"edited_channel_post" if edited else "channel_post": message}


def group_message(
    *,
    user_id: int,
    chat_id: int = -1009876543210,
    username: str | None = "ObrolanKota",
    message_id: int = 3,
    text: str = "Halo semua",
) -> dict[str, Any]:
    """A member's message in a supergroup."""
    return {
        "message": {
            "message_id": message_id,
            "from": {"id": user_id, "is_bot": False, "first_name": "Budi", "username": "budi_k"},
            "chat": _chat(chat_id, username, "supergroup", "Obrolan Kota"),
            "date": int(time.time()) - 30,
            "text": text,
        }
    }


def private_message(*, user_id: int, text: str = "/start", message_id: int = 1) -> dict[str, Any]:
    """A message to the bot in a private chat."""
    return {
        "message": {
            "message_id": message_id,
            "from": {"id": user_id, "is_bot": False, "first_name": "Siti", "language_code": "id"},
            "chat": {"id": user_id, "type": "private", "first_name": "Siti"},
            "date": int(time.time()),
            "text": text,
        }
    }


def photo_sizes(file_id: str, *, file_size: int, width: int = 800, height: int = 600) -> list[Any]:
    """The sizes Telegram lists for a photo: a thumbnail and the photo itself."""
    return [
        {"file_id": f"{file_id}-thumb", "file_unique_id": "t", "width": 90, "height": 67,
         "file_size": 1200},
        {"file_id": file_id, "file_unique_id": "p", "width": width, "height": height,
         "file_size": file_size},
    ]  # fmt: skip
