"""The signed HTTP platform without a database: its settings, its request, its reading of
``Retry-After``, and which adapters the runtime assembles."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
import typer
from pydantic import SecretStr, ValidationError
from sqlalchemy.orm import sessionmaker

from tanggap.actions.platform import PlatformAction
from tanggap.cli.common import load_settings
from tanggap.config import Settings
from tanggap.outbox import DeliveryFailed
from tanggap.platforms.http import HttpPlatformAdapter, request_body, retry_after
from tanggap.platforms.routing import RoutingAdapter
from tanggap.runtime import platform_adapter

SECRET = "platform-secret-0123456789abcdef"


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        ({"platform": "http"}, "TANGGAP_PLATFORM_URL is required when TANGGAP_PLATFORM=http"),
        ({"platform_url": "https://p.example/a"}, "needs TANGGAP_PLATFORM_SECRET to sign with"),
        (
            {"platform": "http", "platform_url": "https://p.example/a", "platform_secret": "short"},
            "TANGGAP_PLATFORM_SECRET must be at least 16 characters",
        ),
        ({"platform_url": "ftp://p.example/a", "platform_secret": SECRET}, "platform_url"),
        ({"platform": "mastodon"}, "platform"),
        ({"platform_timeout_seconds": 0}, "platform_timeout_seconds"),
        ({"public_url": "tanggap.example.org"}, "public_url"),
        (
            {
                "env": "production",
                "secret_key": "k" * 40,
                "platform": "http",
                "platform_url": "https://p.example/a",
                "platform_secret": SECRET,
            },
            "TANGGAP_PUBLIC_URL must be set in production",
        ),
        (
            # x 10 actions claimed at once >= the 120 s lease
            {
                "platform_url": "https://p.example/a",
                "platform_secret": SECRET,
                "platform_timeout_seconds": 15,
            },
            "TANGGAP_ACTION_LEASE_SECONDS .120. must outlast",
        ),
        (
            {"telegram_token": "1:x", "telegram_timeout_seconds": 30, "action_lease_seconds": 200},
            "each given up to TANGGAP_TELEGRAM_TIMEOUT_SECONDS",
        ),
    ],
)
def test_bad_platform_settings_are_refused_by_name(fields: dict[str, object], refusal: str) -> None:
    with pytest.raises(ValidationError, match=refusal) as refused:
        Settings(**fields)  # type: ignore[arg-type]
    assert "short" not in str(refused.value)  # a secret given is never echoed


def test_a_process_refuses_to_start_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TANGGAP_PLATFORM", "http")
    monkeypatch.setenv("TANGGAP_PLATFORM_URL", "platform.example/actions")
    monkeypatch.setenv("TANGGAP_PLATFORM_SECRET", SECRET)
    with pytest.raises(typer.Exit) as stopped:
        load_settings()
    assert stopped.value.exit_code == 1
    error = capsys.readouterr().err
    assert error.startswith("error: TANGGAP_PLATFORM_URL: String should match pattern")
    assert SECRET not in error


def test_the_runtime_routes_to_the_platforms_configured() -> None:
    factory = sessionmaker()
    builtin_only = platform_adapter(Settings(), factory)
    assert isinstance(builtin_only, RoutingAdapter) and set(builtin_only.adapters) == {"builtin"}
    assert builtin_only.default == "builtin"
    settings = Settings(platform="http", platform_url="https://p.example/a", platform_secret=SECRET)
    both = platform_adapter(settings, factory)
    assert isinstance(both, RoutingAdapter) and set(both.adapters) == {"builtin", "http"}
    assert both.default == "http"
    assert SECRET not in repr(both.adapters["http"])


def action(kind: str, message_id: int | None, decided: int | None = 7) -> PlatformAction:
    return PlatformAction(
        idempotency_key="k-1",
        kind=kind,  # type: ignore[arg-type]
        channel="berita kita",
        message_id=message_id,
        decided_message_id=decided,
    )


@pytest.mark.parametrize(
    ("kind", "message_id", "said", "target"),
    [
        ("remove_post", 7, "remove", "post"),
        ("geo_restrict_post", 7, "geo_restrict", "post"),
        ("ban_channel", None, "ban_channel", "channel"),
        ("restore_post", 7, "restore", "post"),
        ("restore_channel", None, "restore", "channel"),
    ],
)
def test_each_kind_says_what_to_do_and_to_what(
    kind: str, message_id: int | None, said: str, target: str
) -> None:
    body = request_body(action(kind, message_id), "https://t.example/base/")
    assert (body["kind"], body["target"], body["message_id"]) == (said, target, message_id)
    assert body["statement_url"] == "https://t.example/base/v1/posts/berita%20kita/7/statement"
    assert (
        request_body(action(kind, message_id, None), "https://t.example")["statement_url"] is None
    )


NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        (format_datetime(datetime(2026, 12, 3, 12, 1, 30, tzinfo=UTC), usegmt=True), 90.0),
        ("Thu, 03 Dec 2026 11:00:00 GMT", 0.0),  # already past: at once
        ("99999999", 86_400.0),  # at most a day
        ("-5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_or_an_http_date(header: str | None, seconds: float) -> None:
    assert retry_after(header, now=NOW.timestamp()) == seconds


def test_an_unreachable_platform_is_a_failure_to_retry() -> None:
    with socket.socket() as sock:  # a port nobody listens on once it is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    adapter = HttpPlatformAdapter(
        url=f"http://127.0.0.1:{port}/", secret=SecretStr(SECRET), public_url="http://t"
    )
    with pytest.raises(DeliveryFailed, match="platform not reached: ConnectError") as failed:
        adapter.apply(action("remove_post", 7))
    assert type(failed.value) is DeliveryFailed  # not refused for good
