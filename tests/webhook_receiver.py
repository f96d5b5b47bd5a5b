"""A real webhook receiver on 127.0.0.1 that checks signatures the way the README tells."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    """One accepted delivery."""

    event_id: str
    payload: dict[str, Any]


@dataclass
class Receiver:
    """Accepts signed webhooks; refuses with 503 while ``down``; dedupes on the event id."""

    secret: str = ""
    down: bool = False
    accepted: list[Received] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    refused: int = 0
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, body: bytes, header: str) -> bool:
        """Verify ``t=<unix>,v1=<hex>`` as HMAC-SHA256(secret, "<t>.<body>") within 5 minutes."""
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        if "t" not in parts or "v1" not in parts or abs(time.time() - int(parts["t"])) > 300:
            return False
        signed = parts["t"].encode() + b"." + body
        expected = hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, parts["v1"])

    def handle(self, body: bytes, headers: dict[str, str]) -> int:
        """Return the status to answer with, recording what arrived."""
        with self.lock:
            if self.down:
                self.refused += 1
                return 503
            if not self.check(body, headers.get("x-tanggap-signature", "")):
                self.bad_signatures += 1
                return 401
            event_id = headers.get("x-tanggap-event-id", "")
            if any(r.event_id == event_id for r in self.accepted):
                self.duplicates.append(event_id)
                return 200
            self.accepted.append(Received(event_id, json.loads(body)))
            return 204


def serve(receiver: Receiver) -> tuple[ThreadingHTTPServer, str]:
    """Start ``receiver`` on a free loopback port; return the server and its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.handle(body, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hooks/tanggap"
