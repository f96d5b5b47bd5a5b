"""Report targets: every public link form, and every way a link can be wrong."""

from __future__ import annotations

import pytest

from tanggap.reports.links import LinkError, PostRef, parse_post_link


@pytest.mark.parametrize(
    "link",
    [
        "https://t.me/BeritaKita/42",
        "http://t.me/beritakita/42",
        "t.me/beritakita/42",
        "telegram.me/beritakita/42",
        "https://telegram.dog/beritakita/42",
        "https://www.t.me/beritakita/42",
        "https://t.me/s/beritakita/42",
        "https://t.me/beritakita/42?single",
        "https://t.me/beritakita/42?comment=7",
        "https://t.me/beritakita/42/",
        "  https://t.me/beritakita/42  ",
        "tg://resolve?domain=beritakita&post=42",
    ],
)
def test_public_post_links_name_the_post(link: str) -> None:
    assert parse_post_link(link) == PostRef("beritakita", 42)


def test_canonical_url() -> None:
    assert PostRef("beritakita", 42).url == "https://t.me/beritakita/42"


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("", "empty"),
        ("https://example.com/beritakita/42", "not a public channel link"),
        ("ftp://t.me/beritakita/42", "unsupported link scheme"),
        ("https://t.me/beritakita", "must name a channel and a message"),
        ("https://t.me/beritakita/42/43", "must name a channel and a message"),
        ("https://t.me/", "names no channel"),
        ("https://t.me/c/1234567/42", "private chats"),
        ("https://t.me/+AbCdEf123", "private chats"),
        ("https://t.me/joinchat/AbCdEf", "private chats"),
        ("https://t.me/beritakita/abc", "not a message id"),
        ("https://t.me/beritakita/0", "not a message id"),
        ("https://t.me/beritakita/-5", "not a message id"),
        ("https://t.me/1abc/42", "not a channel handle"),
        ("https://t.me/ab/42", "not a channel handle"),
        ("https://t.me/" + "a" * 40 + "/42", "not a channel handle"),
        ("tg://msg?text=hi", "tg://resolve"),
        ("tg://resolve?domain=beritakita", "needs both"),
        ("https://t.me/" + "a" * 3000, "longer than 2048"),
    ],
)
def test_bad_links_say_what_is_wrong(link: str, reason: str) -> None:
    with pytest.raises(LinkError, match=reason):
        parse_post_link(link)
