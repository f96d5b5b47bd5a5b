"""A reference receiver of Tanggap's signed platform actions (docs/platform-http.md).

Standard library only. It checks the signature and its timestamp, applies each idempotency key
once (here: prints what a platform would do) and answers 409 to a key it already applied.

    python examples/platform_receiver.py --port 9000 --secret "$TANGGAP_PLATFORM_SECRET"
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 300  # refuse signatures older (or newer) than five minutes: replays


def verify(secret: str, body: bytes, header: str, now: float) -> bool:
    """Tell whether ``X-Tanggap-Signature`` (t=<unix>,v1=<hex>) signs ``body`` with ``secret``."""
    fields = [part.strip().partition("=") for part in header.split(",")]
    stamps = [value for name, _, value in fields if name == "t"]
    stamp = stamps[0] if stamps else ""
    if not (stamp.isascii() and stamp.isdigit()) or abs(now - int(stamp)) > TOLERANCE_SECONDS:
        return False
    signed = stamp.encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest().encode()
    given = [v.encode("utf-8", "replace") for name, _, v in fields if name == "v1"]
    return any(hmac.compare_digest(expected, v) for v in given)  # bytes: any input compares


def describe(action: dict) -> str:
    """Say what a platform would do for ``action``."""
    channel, message = action["channel"], action["message_id"]
    where = f"post {channel}/{message}" if action["target"] == "post" else f"channel {channel}"
    countries = f" in {','.join(action['countries'])}" if action["countries"] else ""
    policy = action["policy"]["name"] or action["policy"]["ref"]
    reasons = action["statement_url"]
    return f"{action['kind']} {where}{countries} ({action['ground']}: {policy}), see {reasons}"


def serve(port: int, secret: str) -> None:
    """Answer Tanggap's actions on 127.0.0.1:``port`` until interrupted."""
    applied: set[str] = set()  # a real platform keeps this in its database
    applying: set[str] = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = self.headers.get("Content-Length", "0")
            if not (length.isascii() and length.isdigit()) or int(length) > 1_048_576:
                return self.answer(400, "a body of a known length, at most 1 MiB")
            body = self.rfile.read(int(length))
            if not verify(secret, body, self.headers.get("X-Tanggap-Signature", ""), time.time()):
                return self.answer(401, "bad or stale signature")
            try:
                action = json.loads(body)
                key, summary = action["idempotency_key"], describe(action)
            except (ValueError, KeyError, TypeError, AttributeError):
                return self.answer(400, "not an action")
            with lock:  # check and claim in one step: a retry may overlap the first try
                if key in applied:
                    print(f"already applied {key}", flush=True)
                    return self.answer(409, "already applied")
                if key in applying:  # not applied yet: 409 would say it was; try again soon
                    return self.answer(503, "being applied")
                applying.add(key)
            try:
                print(f"apply {key}: {summary}", flush=True)  # a real platform acts here
            except Exception:
                with lock:
                    applying.discard(key)
                return self.answer(500, "not applied")  # Tanggap retries it
            with lock:  # recorded only once it took effect
                applying.discard(key)
                applied.add(key)
            return self.answer(200, "applied")

        def answer(self, status: int, message: str) -> None:
            payload = json.dumps({"status": message}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.server_close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9000, help="0 picks a free port")
    parser.add_argument("--secret", required=True, help="TANGGAP_PLATFORM_SECRET")
    arguments = parser.parse_args()
    serve(arguments.port, arguments.secret)
