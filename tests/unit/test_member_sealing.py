"""Sealed Telegram member ids: they open only under the same bot's token and secret key, and only
for the chat and author they were sealed for."""

from __future__ import annotations

import pytest

from tanggap.platforms.sealing import MemberSeal, SealBroken

TOKEN = "123456:standin-token-AAAAAAAAAAAAAAAAAAAAAAAA"
SECRET = "a-secret-key-of-this-deployment-0123456789"
CHAT = "-1009876543210"
AUTHOR = "7f" * 32
MEMBER = 5_550_001_234


def test_a_sealed_id_opens_for_its_chat_and_author() -> None:
    seal = MemberSeal.of(bot_token=TOKEN, secret_key=SECRET)
    sealed = seal.seal(chat_ref=CHAT, author_ref=AUTHOR, user_id=MEMBER)
    assert str(MEMBER) not in sealed
    assert seal.open(chat_ref=CHAT, author_ref=AUTHOR, sealed=sealed) == MEMBER
    # A fresh nonce each time: the same member sealed twice reads differently.
    again = seal.seal(chat_ref=CHAT, author_ref=AUTHOR, user_id=MEMBER)
    assert again != sealed
    assert (
        MemberSeal.of(bot_token=TOKEN, secret_key=SECRET).open(
            chat_ref=CHAT, author_ref=AUTHOR, sealed=again
        )
        == MEMBER
    )


@pytest.mark.parametrize(
    ("chat_ref", "author_ref"),
    [("-1001111111111", AUTHOR), (CHAT, "8e" * 32)],
    ids=["another chat", "another author"],
)
def test_a_sealed_id_moved_to_another_chat_or_author_does_not_open(
    chat_ref: str, author_ref: str
) -> None:
    seal = MemberSeal.of(bot_token=TOKEN, secret_key=SECRET)
    sealed = seal.seal(chat_ref=CHAT, author_ref=AUTHOR, user_id=MEMBER)
    with pytest.raises(SealBroken):
        seal.open(chat_ref=chat_ref, author_ref=author_ref, sealed=sealed)


@pytest.mark.parametrize(
    ("token", "secret"),
    [
        ("654321:another-bot-token-BBBBBBBBBBBBBBBBBB", SECRET),
        (TOKEN, "another-secret-key-0123456789"),
    ],
    ids=["another bot's token", "another secret key"],
)
def test_a_sealed_id_does_not_open_without_both_keys(token: str, secret: str) -> None:
    sealed = MemberSeal.of(bot_token=TOKEN, secret_key=SECRET).seal(
        chat_ref=CHAT, author_ref=AUTHOR, user_id=MEMBER
    )
    with pytest.raises(SealBroken):
        MemberSeal.of(bot_token=token, secret_key=secret).open(
            chat_ref=CHAT, author_ref=AUTHOR, sealed=sealed
        )


@pytest.mark.parametrize("sealed", ["", "not base64 !", "AAAA", "A" * 64])
def test_altered_or_truncated_bytes_do_not_open(sealed: str) -> None:
    seal = MemberSeal.of(bot_token=TOKEN, secret_key=SECRET)
    with pytest.raises(SealBroken):
        seal.open(chat_ref=CHAT, author_ref=AUTHOR, sealed=sealed)


def test_a_seal_needs_both_the_token_and_the_secret_key() -> None:
    for token, secret in (("", SECRET), (TOKEN, "")):
        with pytest.raises(ValueError, match="both the bot's token and the secret key"):
            MemberSeal.of(bot_token=token, secret_key=secret)


def test_the_key_is_not_shown_in_a_repr() -> None:
    seal = MemberSeal.of(bot_token=TOKEN, secret_key=SECRET)
    assert seal.key.hex() not in repr(seal) and str(seal.key) not in repr(seal)


# Sealed by MemberSeal as it was before AES-GCM moved to ``tanggap.sealing``: ids kept in
# ``telegram_members`` then must still open.
SEALED_BEFORE_THE_MOVE = "dUDVA_YXYKBcsnOaMKc7WQhqkxlpq1lEAG9F5z1y6D_XrtCfA9M="


def test_an_id_sealed_before_the_move_to_the_foundation_still_opens() -> None:
    seal = MemberSeal.of(bot_token=TOKEN, secret_key=SECRET)
    assert seal.open(chat_ref=CHAT, author_ref=AUTHOR, sealed=SEALED_BEFORE_THE_MOVE) == MEMBER
