"""The Bot API client and the Telegram adapter against the stand-in on 127.0.0.1: Telegram's
answers become the outbox's failures (a wait, a refusal for good, a retry), the token never
appears in one."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tanggap.actions.platform import PlatformAction
from tanggap.notify.chat import BotReply, Button
from tanggap.outbox import DeliveryFailed, DeliveryRefused
from tanggap.platforms.botapi import BotApi, FileTooLarge
from tanggap.platforms.telegram import TelegramAdapter
from tests.telegram_standin import BotApiStandin, Refusal


@pytest.fixture
def api(telegram_standin: BotApiStandin) -> Iterator[BotApi]:
    client = BotApi(token=telegram_standin.token, api_url=telegram_standin.url, timeout=5)
    yield client
    client.close()


def test_a_message_goes_out_with_its_reply_and_its_buttons(
    api: BotApi, telegram_standin: BotApiStandin
) -> None:
    reply = BotReply(
        chat_id=5550001,
        text="Pilih kategori",
        reply_to_message_id=12,
        buttons=((Button("Penipuan", "c:fraud"), Button("Judi", "c:gambling")),),
    )
    assert api.send_message(reply) == 1
    assert api.send_message(BotReply(chat_id=5550001, text="Terima kasih")) == 2
    first, second = (call.params for call in telegram_standin.calls("sendMessage"))
    assert first == {
        "chat_id": 5550001,
        "text": "Pilih kategori",
        "reply_parameters": {"message_id": 12, "allow_sending_without_reply": True},
        "reply_markup": {
            "inline_keyboard": [
                [
                    {"text": "Penipuan", "callback_data": "c:fraud"},
                    {"text": "Judi", "callback_data": "c:gambling"},
                ]
            ]
        },
    }
    assert second == {"chat_id": 5550001, "text": "Terima kasih"}


def test_telegrams_refusals_become_the_outboxs_failures_without_the_token(
    api: BotApi, telegram_standin: BotApiStandin
) -> None:
    standin = telegram_standin
    standin.refuse_next(
        "sendMessage",
        Refusal(429, "Too Many Requests: retry after 7", retry_after=7),
        Refusal(403, "Forbidden: bot was blocked by the user"),
        Refusal(502, "Bad Gateway"),
    )
    reply = BotReply(chat_id=1, text="x")
    with pytest.raises(DeliveryFailed) as waited:
        api.send_message(reply)
    assert not isinstance(waited.value, DeliveryRefused) and waited.value.retry_after == 7
    with pytest.raises(DeliveryRefused, match="403 Forbidden: bot was blocked by the user"):
        api.send_message(reply)
    with pytest.raises(DeliveryFailed) as failed:
        api.send_message(reply)
    assert not isinstance(failed.value, DeliveryRefused) and failed.value.retry_after is None

    wrong = BotApi(token="999:wrong", api_url=standin.url, timeout=5)
    with pytest.raises(DeliveryRefused) as unauthorised:
        wrong.send_message(reply)
    assert "401 Unauthorized" in str(unauthorised.value) and "999:wrong" not in str(
        unauthorised.value
    )

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    away = BotApi(token=standin.token, api_url=f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(DeliveryFailed) as unreachable:
        away.send_message(reply)
    assert standin.token not in str(unreachable.value)
    assert unreachable.value.__cause__ is None and unreachable.value.__suppress_context__


def test_a_file_past_the_cap_is_refused_before_or_while_downloading(
    api: BotApi, telegram_standin: BotApiStandin
) -> None:
    telegram_standin.add_file("small", b"a" * 100)
    telegram_standin.add_file("big", b"b" * 5000)
    telegram_standin.add_file("liar", b"c" * 5000, file_size=10)
    assert api.download_file("small", max_bytes=1000) == b"a" * 100
    with pytest.raises(FileTooLarge, match="5000 bytes, more than 1000"):
        api.download_file("big", max_bytes=1000)
    with pytest.raises(FileTooLarge, match="larger than 1000 bytes"):
        api.download_file("liar", max_bytes=1000)
    with pytest.raises(DeliveryRefused, match="invalid file_id"):
        api.download_file("none", max_bytes=1000)


def action(kind: str, **fields: object) -> PlatformAction:
    base: dict[str, object] = {
        "idempotency_key": "a1",
        "kind": kind,
        "channel": "beritapublik",
        "message_id": 7,
        "platform": "telegram",
    }
    return PlatformAction(**{**base, **fields})  # type: ignore[arg-type]


def test_the_adapter_deletes_by_chat_id_or_handle_and_refuses_the_impossible(
    api: BotApi, telegram_standin: BotApiStandin
) -> None:
    adapter = TelegramAdapter(api)
    adapter.apply(action("remove_post", channel_ref="-1001234567890"))
    adapter.apply(action("remove_post", message_id=8))
    adapter.apply(action("remove_post", message_id=8))  # gone already: applied
    assert [c.params for c in telegram_standin.calls("deleteMessage")] == [
        {"chat_id": -1001234567890, "message_id": 7},
        {"chat_id": "@beritapublik", "message_id": 8},
        {"chat_id": "@beritapublik", "message_id": 8},
    ]
    for kind in ("geo_restrict_post", "ban_channel", "restore_post", "restore_channel"):
        with pytest.raises(DeliveryRefused, match="Telegram's Bot API cannot"):
            adapter.apply(action(kind))
    telegram_standin.refuse_next("deleteMessage", Refusal(400, "Bad Request: not enough rights"))
    with pytest.raises(DeliveryRefused, match="not enough rights"):
        adapter.apply(action("remove_post", message_id=9))
    assert len(telegram_standin.calls("deleteMessage")) == 4
