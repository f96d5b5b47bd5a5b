"""Sealed values: AES-GCM under a key derived with HKDF-SHA256, a fresh nonce each time, and
associated data that binds a value to where it is kept, so that it does not open anywhere else.

A sealed value is ``base64url(nonce ‖ ciphertext ‖ tag)``, the nonce 12 bytes."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
KEY_BYTES = 32


class SealBroken(Exception):
    """A sealed value does not open: another key, another place, or altered bytes."""


def derive_key(*, material: bytes, salt: bytes | None, info: bytes) -> bytes:
    """Derive a 32-byte key from ``material`` with HKDF-SHA256 (``info`` names its use)."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=info).derive(material)


def seal(*, key: bytes, plain: bytes, associated: bytes) -> str:
    """Return ``plain`` sealed under ``key`` for ``associated``, under a fresh nonce."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plain, associated)
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def open_sealed(*, key: bytes, sealed: str, associated: bytes) -> bytes:
    """Return what ``sealed`` holds; raise ``SealBroken`` when it does not open under ``key``
    for ``associated``."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated)
    except (InvalidTag, ValueError, binascii.Error):
        raise SealBroken("the sealed value does not open under this key") from None
