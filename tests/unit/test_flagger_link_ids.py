"""A flagger's linked Telegram account is kept as a lookup digest and a sealed chat id: the digest
is the same in every process under one secret key, and the sealed chat id opens only for its
own link and under that key."""

from __future__ import annotations

import uuid

import pytest

from tanggap.flaggers.telegram_ids import LinkKeys, SealBroken
from tanggap.pseudonyms import user_ref

SECRET = "a-secret-key-of-this-deployment-0123456789"
USER = 700_000_001
CHAT = 700_000_001  # a private chat's id is its user's
# The digest of USER under SECRET, as every process computes it: a change of the derivation
# would leave every existing link unreachable, so it is pinned here.
USER_DIGEST = "d19bee2f0fc8f45902a571b5311c44dbb268481d7df6ece12a1a0b8a9a4cfe4e"


def test_the_lookup_digest_is_the_same_in_every_process_under_one_secret_key() -> None:
    assert LinkKeys.of(SECRET).user_digest(USER) == USER_DIGEST
    assert LinkKeys.of(SECRET).user_digest(USER) == LinkKeys.of(SECRET).user_digest(USER)
    assert LinkKeys.of(SECRET).user_digest(USER + 1) != USER_DIGEST
    assert LinkKeys.of("another-secret-key-0123456789-abcdef").user_digest(USER) != USER_DIGEST


def test_the_lookup_digest_is_not_the_authors_pseudonym() -> None:
    """Its own key: a flagger's link cannot be joined to the posts they wrote as an author."""
    assert user_ref(secret_key=SECRET, platform_user_id=str(USER)) != USER_DIGEST
    assert str(USER) not in USER_DIGEST


def test_a_sealed_chat_opens_for_its_link_only() -> None:
    keys = LinkKeys.of(SECRET)
    link, other = uuid.uuid4(), uuid.uuid4()
    sealed = keys.seal_chat(link_id=link, chat_id=CHAT)
    assert str(CHAT) not in sealed
    assert keys.seal_chat(link_id=link, chat_id=CHAT) != sealed  # a fresh nonce each time
    assert LinkKeys.of(SECRET).open_chat(link_id=link, sealed=sealed) == CHAT
    with pytest.raises(SealBroken, match="does not open"):
        keys.open_chat(link_id=other, sealed=sealed)
    with pytest.raises(SealBroken):
        LinkKeys.of("another-secret-key-0123456789-abcdef").open_chat(link_id=link, sealed=sealed)


@pytest.mark.parametrize("sealed", ["", "not base64 !", "AAAA", "A" * 64])
def test_altered_or_truncated_chat_seals_do_not_open(sealed: str) -> None:
    with pytest.raises(SealBroken):
        LinkKeys.of(SECRET).open_chat(link_id=uuid.uuid4(), sealed=sealed)


def test_the_keys_are_not_shown_in_a_repr() -> None:
    keys = LinkKeys.of(SECRET)
    assert keys.lookup.hex() not in repr(keys) and keys.chat.hex() not in repr(keys)
    with pytest.raises(ValueError, match="secret key"):
        LinkKeys.of("")
