"""Keyed pseudonyms: the only form in which a platform user's id is ever kept.

The keys form a ring (``TANGGAP_PSEUDONYM_KEYS="k2:secret2,k1:secret1"``): the first is current
and makes every new pseudonym; the others are kept so that an author known under an older key
is still found (``refs``). Each stored pseudonym carries its key's id. Without a ring, the one
key is the secret key, under the id ``default``: the pseudonyms made before rotation existed."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

_CONTEXT = b"tanggap.user-ref.v1\x00"
DEFAULT_KEY_ID = "default"
_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
MIN_SECRET_LENGTH = 16


class KeyringError(ValueError):
    """A pseudonym keyring that cannot be read; the message says which entry."""


def user_ref(*, secret_key: str, platform_user_id: str) -> str:
    """Return the pseudonym of a platform user: HMAC-SHA256 of the id under the secret key."""
    if not platform_user_id:
        raise ValueError("platform_user_id must not be empty")
    digest = hmac.new(
        secret_key.encode("utf-8"), _CONTEXT + platform_user_id.encode("utf-8"), hashlib.sha256
    )
    return digest.hexdigest()


@dataclass(frozen=True)
class PseudonymKey:
    """One key of the ring: its id (stored with each pseudonym) and its secret."""

    key_id: str
    secret: str

    def __repr__(self) -> str:  # never the secret in a log or a traceback
        return f"PseudonymKey({self.key_id!r})"


@dataclass(frozen=True)
class Keyring:
    """The pseudonym keys, current first."""

    keys: tuple[PseudonymKey, ...]

    @classmethod
    def default(cls, secret_key: str) -> Keyring:
        """Return the ring of one key, the secret key, as pseudonyms were made before rotation."""
        return cls((PseudonymKey(DEFAULT_KEY_ID, secret_key),))

    @classmethod
    def parse(cls, text: str | None, *, secret_key: str) -> Keyring:
        """Read ``id:secret,id:secret`` (current first); none or blank: the default ring. Raise
        ``KeyringError`` naming the entry that is wrong."""
        if text is None or not text.strip():
            return cls.default(secret_key)
        keys: list[PseudonymKey] = []
        for number, entry in enumerate(text.split(","), start=1):
            key_id, colon, secret = entry.strip().partition(":")
            if not colon or not _KEY_ID.match(key_id):
                raise KeyringError(
                    f"entry {number} must be id:secret, the id 1-32 letters, digits, . _ or -"
                )
            if len(secret) < MIN_SECRET_LENGTH:
                raise KeyringError(
                    f"entry {number} ({key_id}): the secret must be at least "
                    f"{MIN_SECRET_LENGTH} characters"
                )
            if any(key.key_id == key_id for key in keys):
                raise KeyringError(f"entry {number}: key id {key_id!r} appears twice")
            keys.append(PseudonymKey(key_id, secret))
        return cls(tuple(keys))

    @property
    def current(self) -> PseudonymKey:
        """Return the key new pseudonyms are made with."""
        return self.keys[0]

    def ref(self, platform_user_id: str) -> str:
        """Return the pseudonym of a platform user under the current key."""
        return user_ref(secret_key=self.current.secret, platform_user_id=platform_user_id)

    def refs(self, platform_user_id: str) -> dict[str, str]:
        """Return the pseudonym of a platform user under every key of the ring, by key id."""
        return {
            key.key_id: user_ref(secret_key=key.secret, platform_user_id=platform_user_id)
            for key in self.keys
        }
