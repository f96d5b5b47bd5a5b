"""Webhook signatures: ``X-Tanggap-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``."""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Tanggap-Signature"
EVENT_ID_HEADER = "X-Tanggap-Event-Id"
DEFAULT_TOLERANCE_SECONDS = 300


def sign(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    """Return the signature header value for ``body``: HMAC-SHA256 over ``"<t>.<body>"``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode("utf-8"), f"{t}.".encode() + body, hashlib.sha256)
    return f"t={t},v1={mac.hexdigest()}"


def verify(
    *,
    secret: str,
    body: bytes,
    header: str,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: int | None = None,
) -> bool:
    """Tell whether ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds.

    This is what a receiver runs; it is here so the README's recipe is tested code.
    """
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, []).append(value)
    try:
        t = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((int(time.time()) if now is None else now) - t) > tolerance:
        return False
    expected = sign(secret=secret, body=body, timestamp=t).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))
