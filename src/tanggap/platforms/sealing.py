"""Sealed Telegram member ids: a group member's raw id kept so that the bot can ban them, readable
only by a process that holds the bot's token.

The key is derived (HKDF-SHA256) from the bot's token and Tanggap's secret key together: the
database alone, or the secret key alone, opens nothing. Each id is sealed with AES-GCM under a
fresh nonce, bound to its chat and its author's pseudonym as associated data, so a sealed id
copied onto another member's row or another chat does not open."""

from __future__ import annotations

from dataclasses import dataclass, field

from tanggap import sealing
from tanggap.sealing import SealBroken

__all__ = ["MemberSeal", "SealBroken"]

_INFO = b"tanggap.telegram-member-id.v1"


def _associated(chat_ref: str, author_ref: str) -> bytes:
    return f"{chat_ref}\x00{author_ref}".encode()


@dataclass(frozen=True)
class MemberSeal:
    """Seals and opens member ids under the key of one bot and one secret key."""

    key: bytes = field(repr=False)

    @classmethod
    def of(cls, *, bot_token: str, secret_key: str) -> MemberSeal:
        """Derive the seal of a bot (its token) and a deployment (its secret key)."""
        if not bot_token or not secret_key:
            raise ValueError("a member seal needs both the bot's token and the secret key")
        return cls(
            sealing.derive_key(material=bot_token.encode(), salt=secret_key.encode(), info=_INFO)
        )

    def seal(self, *, chat_ref: str, author_ref: str, user_id: int) -> str:
        """Return ``user_id`` sealed for the member ``author_ref`` of the chat ``chat_ref``."""
        return sealing.seal(
            key=self.key, plain=str(user_id).encode(), associated=_associated(chat_ref, author_ref)
        )

    def open(self, *, chat_ref: str, author_ref: str, sealed: str) -> int:
        """Return the member id sealed for ``author_ref`` in ``chat_ref``; raise
        ``SealBroken`` when it does not open."""
        try:
            plain = sealing.open_sealed(
                key=self.key, sealed=sealed, associated=_associated(chat_ref, author_ref)
            )
            return int(plain.decode())
        except (SealBroken, ValueError):
            raise SealBroken("the sealed member id does not open under this bot's key") from None
