"""Stream messages read as posts or channels, or refused naming the field; the dead letter of a
refusal; the files of a post hashed before it is stored."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from pydantic import ValidationError

from tanggap.channels.schemas import ChannelIn
from tanggap.detectors.hashing import pdq_of
from tanggap.posts.schemas import HashedMediaIn, MediaIn, PostIn
from tanggap.stream.media import hashed_post
from tanggap.stream.messages import (
    ObjectRef,
    Origin,
    Refusal,
    StreamPostIn,
    dead_letter,
    read_message,
    read_post,
)
from tests.factories import post_body
from tests.stream_support import noise

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


def test_a_stream_post_may_name_an_object_where_the_http_body_may_not() -> None:
    named = post_body(text="", media=[{"object": {"bucket": "media", "name": "2026/1.jpg"}}])
    read = read_post(json.dumps(named).encode(), max_bytes=4096)
    assert isinstance(read, StreamPostIn) and read.has_files()
    assert read.media[0].object == ObjectRef(bucket="media", name="2026/1.jpg")
    with pytest.raises(ValidationError):
        PostIn.model_validate(named)  # the public body is unchanged

    cases = {
        "media.0": [{"data": "aGk=", "object": {"bucket": "media", "name": "a"}}],
        "media.0.object.bucket": [{"object": {"bucket": "no spaces", "name": "a"}}],
        "media.0.object.name": [{"object": {"bucket": "media"}}],
    }
    for field, media in cases.items():
        refusal = read_post(json.dumps(post_body(media=media)).encode(), max_bytes=4096)
        assert isinstance(refusal, Refusal) and refusal.field == field, (field, refusal)


def test_the_type_header_tells_a_channel_from_a_post() -> None:
    channel = json.dumps({"handle": "@KabarKota", "country": "ID"}).encode()
    read = read_message(channel, {"Tanggap-Type": "channel"}, max_bytes=4096)
    assert isinstance(read, ChannelIn) and (read.handle, read.country) == ("kabarkota", "ID")
    post = json.dumps(post_body()).encode()
    assert isinstance(read_message(post, None, max_bytes=4096), StreamPostIn)
    assert isinstance(read_message(post, {"Tanggap-Type": "post"}, max_bytes=4096), PostIn)

    bad_country = b'{"handle": "kabarkota", "country": "XX1"}'
    refused = [
        (read_message(post, {"Tanggap-Type": "channel"}, max_bytes=4096), "handle"),
        (read_message(channel, {"Tanggap-Type": "story"}, max_bytes=4096), "Tanggap-Type"),
        (read_message(bad_country, {"Tanggap-Type": "channel"}, max_bytes=4096), "country"),
    ]
    for refusal, field in refused:
        assert isinstance(refusal, Refusal) and refusal.field == field, (field, refusal)


def _encoded(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_files_are_hashed_fully_then_dropped_or_refused_naming_the_field() -> None:
    inline, stored = noise(7, 24), noise(8, 24)
    media = [
        {"data": _encoded(inline), "url": "/m/1"},
        {"object": {"bucket": "media", "name": "b"}},
        {"sha256": hashlib.sha256(b"elsewhere").hexdigest()},
    ]
    post = read_post(json.dumps(post_body(text="", media=media)).encode(), max_bytes=4096)
    assert isinstance(post, StreamPostIn)
    hashed = hashed_post(post, {1: stored})
    assert type(hashed) is PostIn and (hashed.channel, hashed.author_id) == (post.channel, "424242")
    first, second, third = hashed.media
    assert isinstance(first, HashedMediaIn) and first.data is None
    assert (first.pdq, first.pdq_quality) == pdq_of(inline)
    assert (first.sha256, first.md5) == (
        hashlib.sha256(inline).hexdigest(),
        hashlib.md5(inline).hexdigest(),
    )
    assert first.url == "/m/1"
    assert isinstance(second, HashedMediaIn) and (second.pdq, second.pdq_quality) == pdq_of(stored)
    assert type(third) is MediaIn and third.sha256 == media[2]["sha256"]

    corrupt = {"data": _encoded(inline[: len(inline) // 2])}
    other = {"data": _encoded(inline), "md5": "0" * 32}
    for media, fetched, field in (
        ([corrupt], {}, "media.0.data"),
        ([{"md5": "0" * 32}, other], {}, "media.1.md5"),
        ([{"object": {"bucket": "media", "name": "b"}}], {0: stored[:100]}, "media.0.object"),
    ):
        post = read_post(json.dumps(post_body(media=media)).encode(), max_bytes=4096)
        assert isinstance(post, StreamPostIn)
        refusal = hashed_post(post, fetched)
        assert isinstance(refusal, Refusal) and refusal.field == field, (field, refusal)
        assert refusal.code == "invalid_input"


def test_a_dead_letter_never_keeps_the_files_a_post_carried() -> None:
    refusal = Refusal("invalid_input", "media.1.data", "not an image")
    sent = {
        "channel": "beritakita",
        "message_id": 1,
        "media": [{"md5": "a" * 32}, {"data": base64.b64encode(b"\xff\xd8 bytes").decode()}],
    }
    letter = json.loads(
        dead_letter(refusal, data=json.dumps(sent).encode(), origin=ORIGIN, max_bytes=1024)
    )
    kept = json.loads(letter["message"])
    assert kept["media"] == [{"md5": "a" * 32}, {"data": None}]
    assert letter["files_dropped"] == 1 and letter["message_bytes"] == len(json.dumps(sent))


FILE = base64.b64encode(b"\xff\xd8\xff\xe0 the bytes of an image " * 4).decode()


@pytest.mark.parametrize(
    "data",
    [
        b'{"channel":"c","message_id":1,"text":"caf\xe9","media":[{"data":"'
        + FILE.encode()
        + b'"}]}',
        ('{"channel":"c","message_id":1,"media":[{"data":"' + FILE + '"}],"media":[]}').encode(),
        ('{"channel":"c","message_id":1,"media":{"0":{"data":"' + FILE + '"}}}').encode(),
        ('{"channel":"c","message_id":1,"media":[{"data":"' + FILE + '"}]').encode(),
        ('["media", {"data": "' + FILE + '"}]').encode(),
    ],
    ids=["not-utf-8", "a-key-twice", "media-not-a-list", "cut-short", "not-an-object"],
)
def test_a_dead_letter_keeps_no_file_of_a_message_it_cannot_read(data: bytes) -> None:
    refusal = Refusal("invalid_json", "message", "refused")
    letter = json.loads(dead_letter(refusal, data=data, origin=ORIGIN, max_bytes=1 << 20))
    kept = letter.get("message") or base64.b64decode(letter.get("message_base64", "")).decode(
        "latin-1"
    )
    assert FILE not in kept and FILE not in json.dumps(letter)
    assert "message_left_out" in letter and letter["message_bytes"] == len(data)


def test_a_dead_letter_keeps_a_message_without_files_as_it_came() -> None:
    refusal = Refusal("invalid_json", "message", "refused")
    for data in (b"{oops", b'{"channel": "c", "text": "data data"}'):
        letter = json.loads(dead_letter(refusal, data=data, origin=ORIGIN, max_bytes=1024))
        assert letter["message"] == data.decode()
