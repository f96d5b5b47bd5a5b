"""A real platform endpoint on 127.0.0.1 that checks Tanggap's signatures by hand and answers
as a test scripts it."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOLD_SECONDS = 10.0  # a held answer waits at most this long for the test to let it go


@dataclass(frozen=True)
class Answer:
    """One scripted answer; ``hold`` applies the action, then answers only when let go."""

    status: int = 200
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    hold: bool = False


@dataclass(frozen=True)
class Request:
    """One request as it arrived."""

    headers: dict[str, str]
    body: bytes
    signed: bool

    @property
    def payload(self) -> dict[str, Any]:
        """The JSON body."""
        return dict(json.loads(self.body))


@dataclass
class Platform:
    """Applies each idempotency key once (a repeat is answered 409), after the scripted
    answers are used up; refuses a bad signature with 401."""

    secret: str
    url: str = ""
    script: list[Answer] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    applied: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def signed(self, body: bytes, header: str) -> bool:
        """Check ``t=<unix>,v1=<hex>`` as HMAC-SHA256(secret, "<t>.<body>") within 5 minutes."""
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        if "t" not in parts or "v1" not in parts or abs(time.time() - int(parts["t"])) > 300:
            return False
        mac = hmac.new(self.secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256)
        return hmac.compare_digest(mac.hexdigest(), parts["v1"])

    def answer(self, body: bytes, headers: dict[str, str]) -> Answer:
        """Record the request; return what to answer."""
        with self.lock:
            request = Request(headers, body, self.signed(body, headers["x-tanggap-signature"]))
            self.requests.append(request)
            if not request.signed:
                return Answer(401, "bad signature")
            scripted = self.script.pop(0) if self.script else Answer()
            if scripted.status // 100 != 2 and not scripted.hold:
                return scripted
            key = request.payload["idempotency_key"]
            if any(a["idempotency_key"] == key for a in self.applied):
                return Answer(409, "already applied")
            self.applied.append(request.payload)
            return scripted


@contextmanager
def serve(secret: str) -> Iterator[Platform]:
    """Run a platform on a free loopback port; let held answers go when the block ends."""
    platform = Platform(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            answer = platform.answer(body, {k.lower(): v for k, v in self.headers.items()})
            if answer.hold:
                platform.release.wait(HOLD_SECONDS)
            content = answer.body.encode()
            try:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
            except (BrokenPipeError, ConnectionResetError):
                return  # a held answer's caller gave up long ago

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # A short poll: shutting down waits for the loop's next look.
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    platform.url = f"http://127.0.0.1:{server.server_address[1]}/tanggap/actions"
    try:
        yield platform
    finally:
        platform.release.set()
        server.shutdown()
        server.server_close()
