"""Telegram updates read as plain data: what becomes a post, a private message, a pressed
button, and what is skipped (and why, in words that hold no personal data)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tanggap.telegram.port import PrivateMessage
from tanggap.telegram.updates import ChatPost, Photo, Pressed, Skipped, read_update
from tests.telegram_standin import channel_post, group_message, photo_sizes, private_message

CAP = 200_000
NO_MESSAGE = "malformed: no message, chat, message_id or date"


def read(update: dict[str, Any], update_id: int = 77) -> object:
    return read_update({"update_id": update_id, **update}, max_photo_bytes=CAP)


def test_a_channel_post_becomes_a_post_of_its_public_channel() -> None:
    found = read(channel_post(message_id=7, text="Halo", date=1_700_000_000))
    assert found == ChatPost(
        update_id=77,
        kind="channel_post",
        chat_id=-1001234567890,
        handle="beritapublik",
        title="Berita Publik",
        message_id=7,
        text="Halo",
        posted_at=datetime.fromtimestamp(1_700_000_000, UTC),
        author_id="-1001234567890",  # the channel speaks
    )


def test_an_edit_keeps_the_message_id_and_a_caption_is_the_text() -> None:
    found = read(
        channel_post(message_id=7, text="Baru", edited=True, photo=photo_sizes("p", file_size=5000))
    )
    assert isinstance(found, ChatPost)
    assert (found.kind, found.message_id, found.text) == ("edited_channel_post", 7, "Baru")
    assert found.photo == Photo("p", 5000)


def test_a_group_member_is_the_author_and_an_anonymous_admin_is_the_group() -> None:
    found = read(group_message(user_id=5551234, text="Hai"))
    assert isinstance(found, ChatPost) and found.author_id == "5551234"
    anonymous = group_message(user_id=5551234)
    anonymous["message"]["sender_chat"] = {"id": -1009876543210, "type": "supergroup"}
    found = read(anonymous)
    assert isinstance(found, ChatPost) and found.author_id == "-1009876543210"


def test_only_a_member_posting_in_a_group_is_a_member_to_keep() -> None:
    found = read(group_message(user_id=5551234, text="Hai"))
    assert isinstance(found, ChatPost) and found.member_id == 5551234
    anonymous = group_message(user_id=5551234)
    anonymous["message"]["sender_chat"] = {"id": -1009876543210, "type": "supergroup"}
    found = read(anonymous)
    assert isinstance(found, ChatPost) and found.member_id is None
    found = read(channel_post(message_id=7))
    assert isinstance(found, ChatPost) and found.member_id is None


def test_the_largest_photo_size_under_the_cap_is_taken() -> None:
    sizes = [
        {"file_id": "small", "width": 90, "height": 90, "file_size": 1000},
        {"file_id": "mid", "width": 800, "height": 800, "file_size": CAP},
        {"file_id": "big", "width": 2560, "height": 2560, "file_size": CAP + 1},
    ]
    found = read(channel_post(text="", photo=sizes))
    assert isinstance(found, ChatPost) and found.photo == Photo("mid", CAP)
    alone = read(channel_post(text="", photo=sizes[2:]))
    assert alone == Skipped(
        77, f"photo skipped: every size is larger than {CAP} bytes", "channel_post"
    )
    captioned = read(channel_post(text="Lihat", photo=sizes[2:]))
    assert isinstance(captioned, ChatPost) and captioned.photo is None
    assert captioned.photo_skipped == f"photo skipped: every size is larger than {CAP} bytes"


def test_a_private_message_and_a_pressed_button_go_to_the_private_chats() -> None:
    found = read(private_message(user_id=5550001, text="/start ABC", message_id=4))
    assert found == PrivateMessage(
        user_id=5550001, chat_id=5550001, message_id=4, text="/start ABC", language_code="id"
    )
    query = {
        "id": "q1",
        "from": {"id": 5550001, "is_bot": False, "first_name": "S", "language_code": "en"},
        "message": {"message_id": 9, "date": 1, "chat": {"id": 5550001, "type": "private"}},
        "data": "cat:fraud",
    }
    pressed = read({"callback_query": query})
    assert pressed == Pressed(
        "q1",
        PrivateMessage(
            user_id=5550001, chat_id=5550001, message_id=9, text="", language_code="en",
            pressed="cat:fraud",
        ),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("update", "reason"),
    [
        ({"message": "text"}, NO_MESSAGE),
        ({"channel_post": {"message_id": 1, "date": 1}}, NO_MESSAGE),
        ({"channel_post": {"message_id": 0, "date": 1, "chat": {"id": 1, "type": "channel"}}},
         NO_MESSAGE),
        (channel_post(username=None), "not a public chat (no username)"),
        (group_message(user_id=1, username=None), "not a public chat (no username)"),
        (channel_post(username="x!"), "malformed: the chat's username is not a handle"),
        (channel_post(text=None), "no text and no photo (stickers, videos and files are not read)"),
        (channel_post(text=None, photo=[{"width": 1}]), "malformed photo"),
        ({"channel_post": {**channel_post()["channel_post"], "sender_chat": None}},
         "malformed: no sender"),
        ({"channel_post": {**channel_post()["channel_post"], "text": 5}},
         "malformed: text is not a string"),
        ({"my_chat_member": {}}, "not a kind Tanggap reads"),
    ],
)  # fmt: skip
def test_what_is_skipped_says_why(update: dict[str, Any], reason: str) -> None:
    found = read(update)
    assert isinstance(found, Skipped) and found.update_id == 77
    assert found.reason == reason


def test_an_update_without_an_id_is_malformed() -> None:
    assert read_update({"message": {}}, max_photo_bytes=CAP) == Skipped(
        None, "malformed: no update_id"
    )
    assert (
        read_update(["not", "an", "object"], max_photo_bytes=CAP).reason
        == "malformed: no update_id"
    )  # type: ignore[union-attr]
