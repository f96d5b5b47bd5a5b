"""Stream messages read as posts, or refused naming the field; the dead letter of a refusal."""

from __future__ import annotations

import base64
import json

from tanggap.posts.schemas import PostIn
from tanggap.stream.messages import Origin, Refusal, dead_letter, read_post
from tests.factories import post_body

ORIGIN = Origin(stream="POSTS", subject="tanggap.posts", sequence=7, deliveries=2)


def test_a_post_is_read_as_the_http_route_reads_it() -> None:
    read = read_post(
        json.dumps(post_body(channel="@BeritaKita", message_id=3)).encode(), max_bytes=4096
    )
    assert isinstance(read, PostIn) and (read.channel, read.message_id) == ("beritakita", 3)


def test_refusals_name_the_field() -> None:
    cases = {
        b"[1, 2]": ("invalid_input", "message"),
        b"\xff\xfe": ("invalid_json", "message"),
        b"[" * 100 + b"]" * 100: ("invalid_json", "message"),
        json.dumps({**post_body(), "extra": 1}).encode(): ("invalid_input", "extra"),
        json.dumps(post_body(message_id=0)).encode(): ("invalid_input", "message_id"),
        json.dumps(post_body(media=[{"data": "!!"}])).encode(): ("invalid_input", "media.0.data"),
        json.dumps(post_body(text="x" * 2000)).encode(): ("too_large", "message"),
    }
    for data, expected in cases.items():
        refusal = read_post(data, max_bytes=1024)
        assert isinstance(refusal, Refusal), data[:40]
        assert (refusal.code, refusal.field) == expected, (data[:40], refusal)


def test_the_dead_letter_carries_the_message_as_sent_unless_too_large() -> None:
    refusal = Refusal("invalid_json", "message", "the message is not valid JSON")
    letter = json.loads(dead_letter(refusal, data=b"{oops", origin=ORIGIN, max_bytes=1024))
    assert letter["reason"] == "message: the message is not valid JSON"
    assert (letter["stream"], letter["sequence"], letter["deliveries"]) == ("POSTS", 7, 2)
    assert letter["message"] == "{oops" and letter["message_bytes"] == 5

    binary = json.loads(dead_letter(refusal, data=b"\xff\x00", origin=ORIGIN, max_bytes=1024))
    assert base64.b64decode(binary["message_base64"]) == b"\xff\x00" and "message" not in binary

    large = json.loads(dead_letter(refusal, data=b"x" * 2000, origin=ORIGIN, max_bytes=1024))
    assert "message" not in large and "message_base64" not in large
    assert large["message_bytes"] == 2000
