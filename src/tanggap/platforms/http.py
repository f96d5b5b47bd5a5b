"""The signed HTTP platform adapter: each action is one JSON POST to the platform's endpoint,
signed like the flagger webhooks (``notify.signing``); docs/platform-http.md is the contract."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
import structlog
from pydantic import SecretStr

from tanggap.actions.models import ActionKind
from tanggap.actions.platform import PlatformAction
from tanggap.config import Settings
from tanggap.notify.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, sign
from tanggap.outbox import DeliveryFailed, DeliveryRefused

log = structlog.get_logger(__name__)
USER_AGENT = "Tanggap-Platform/1"
MAX_ANSWER = 500  # characters of the platform's answer kept in the action's error
MAX_RETRY_AFTER = 86_400.0  # a platform's wait is honoured up to a day

# Each kind as the platform reads it: what to do, and to what (a restore says which it lifts).
KINDS: dict[ActionKind, tuple[str, str]] = {
    "remove_post": ("remove", "post"),
    "geo_restrict_post": ("geo_restrict", "post"),
    "ban_channel": ("ban_channel", "channel"),
    "restore_post": ("restore", "post"),
    "restore_channel": ("restore", "channel"),
}


@dataclass
class HttpPlatformAdapter:
    """POSTs each action, signed, to ``url``; how the platform answers decides what follows
    (applied, retried, or refused for good)."""

    url: str
    secret: SecretStr
    public_url: str
    timeout_seconds: float = 10.0
    client: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(timeout=self.timeout_seconds, follow_redirects=False)

    def apply(self, action: PlatformAction) -> None:
        """Send ``action``; return once the platform applied it (or had already)."""
        body = json.dumps(request_body(action, self.public_url), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            EVENT_ID_HEADER: action.idempotency_key,
            SIGNATURE_HEADER: sign(secret=self.secret.get_secret_value(), body=body),
        }
        try:
            response = self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:  # timeouts, refused connections, broken answers
            raise DeliveryFailed(f"platform not reached: {type(exc).__name__}: {exc}") from exc
        judge(response, action)

    def close(self) -> None:
        """Release the connections to the platform."""
        self.client.close()


def request_body(action: PlatformAction, public_url: str) -> dict[str, Any]:
    """Return the JSON a platform receives for ``action``."""
    kind, target = KINDS[action.kind]
    statement_url = None
    if action.decided_message_id is not None:
        statement_url = (
            f"{public_url.rstrip('/')}/v1/posts/{quote(action.channel, safe='')}"
            f"/{action.decided_message_id}/statement"
        )
    return {
        "idempotency_key": action.idempotency_key,
        "kind": kind,
        "target": target,
        "channel": action.channel,
        "channel_ref": action.channel_ref,
        "message_id": action.message_id,
        "countries": list(action.countries),
        "ground": action.ground,
        "policy": {"ref": action.policy_ref, "name": action.policy_name},
        "statement_url": statement_url,
    }


def judge(response: httpx.Response, action: PlatformAction) -> None:
    """Return if the answer means applied; raise what the outbox should do otherwise."""
    status = response.status_code
    if 200 <= status < 300:
        return
    if status == 409:
        log.info("platform.already_applied", action_id=action.idempotency_key)
        return
    answer = _answer(response)
    if status == 429:
        wait = retry_after(response.headers.get("Retry-After"))
        raise DeliveryFailed(f"platform asked to wait (HTTP 429): {answer}", retry_after=wait)
    if 400 <= status < 500:
        raise DeliveryRefused(f"platform refused the action (HTTP {status}): {answer}")
    raise DeliveryFailed(f"platform answered HTTP {status}: {answer}")


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Read a ``Retry-After`` header (seconds or an HTTP date) as seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:  # an HTTP date is in GMT
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp() - (time.time() if now is None else now)
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _answer(response: httpx.Response) -> str:
    text = " ".join(response.text.split()) or "(empty answer)"
    return text if len(text) <= MAX_ANSWER else text[: MAX_ANSWER - 1] + "…"


def http_adapter_from(settings: Settings) -> HttpPlatformAdapter | None:
    """Return the HTTP adapter the settings configure, or None when they name no endpoint."""
    if not settings.platform_url or settings.platform_secret is None:
        return None
    return HttpPlatformAdapter(
        url=settings.platform_url,
        secret=settings.platform_secret,
        public_url=settings.public_url,
        timeout_seconds=settings.platform_timeout_seconds,
    )
