"""How a linked member's Telegram ids are kept: never in the clear.

The Telegram user id is kept only as a lookup digest, HMAC-SHA256 under a key derived from the
secret key for this use alone: an incoming message finds its member by it, and nothing turns it
back into the id. The private chat's id, which the bot needs to write first (a notice), is
sealed with AES-GCM under another key derived from the secret key, bound to the link's row id,
and opened only to send a message. Both keys come from the secret key alone, so a link survives
a new bot token; a new secret key leaves every link unusable (members link again)."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field

from tanggap import sealing
from tanggap.sealing import SealBroken

__all__ = ["LinkKeys", "SealBroken"]

_LOOKUP_INFO = b"tanggap.flagger-telegram-user-lookup.v1"
_CHAT_INFO = b"tanggap.flagger-telegram-chat.v1"


@dataclass(frozen=True)
class LinkKeys:
    """The two keys of the flaggers' links, derived from one deployment's secret key."""

    lookup: bytes = field(repr=False)
    chat: bytes = field(repr=False)

    @classmethod
    def of(cls, secret_key: str) -> LinkKeys:
        """Derive the keys of the links from the secret key (HKDF-SHA256, one context each)."""
        if not secret_key:
            raise ValueError("the links' keys need the secret key")
        material = secret_key.encode()
        return cls(
            lookup=sealing.derive_key(material=material, salt=None, info=_LOOKUP_INFO),
            chat=sealing.derive_key(material=material, salt=None, info=_CHAT_INFO),
        )

    def user_digest(self, telegram_user_id: int) -> str:
        """Return the lookup digest of a Telegram user id (64 hex digits)."""
        return hmac.new(self.lookup, str(telegram_user_id).encode(), hashlib.sha256).hexdigest()

    def seal_chat(self, *, link_id: uuid.UUID, chat_id: int) -> str:
        """Return a private chat's id sealed for the link ``link_id``."""
        return sealing.seal(key=self.chat, plain=str(chat_id).encode(), associated=link_id.bytes)

    def open_chat(self, *, link_id: uuid.UUID, sealed: str) -> int:
        """Return the chat id sealed for ``link_id``; raise ``SealBroken`` when it does not open
        (another row's value, another secret key, altered bytes)."""
        try:
            plain = sealing.open_sealed(key=self.chat, sealed=sealed, associated=link_id.bytes)
            return int(plain.decode())
        except (SealBroken, ValueError):
            raise SealBroken("the link's sealed chat id does not open under this key") from None
