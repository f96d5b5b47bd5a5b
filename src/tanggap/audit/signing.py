"""The checkpoint key: an Ed25519 key pair that signs the chain's head. Its private half stays
with the sealing process; its public half is published, so anyone can check a checkpoint."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tanggap.audit.chain import canonical_json
from tanggap.config import Settings

SEED_BYTES = 32


class CheckpointKeyError(ValueError):
    """The checkpoint key is missing or unreadable; the message says which setting to fix."""


@dataclass(frozen=True)
class Signed:
    """What a checkpoint signs: the newest sealed event and its hash, at a time."""

    seq: int
    hash: str
    signed_at: datetime

    def message(self) -> bytes:
        """Return the exact bytes signed (canonical JSON, UTF-8)."""
        body = {
            "seq": self.seq,
            "hash": self.hash,
            "signed_at": self.signed_at.isoformat(timespec="microseconds"),
        }
        return canonical_json(body).encode("utf-8")


def public_hex(key: Ed25519PrivateKey) -> str:
    """Return the public half of ``key`` as 64 hex digits (how it is printed and published)."""
    return key.public_key().public_bytes_raw().hex()


def key_id(public_key_hex: str) -> str:
    """Return a short name for a public key: the start of its SHA-256."""
    return hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:16]


def sign(key: Ed25519PrivateKey, signed: Signed) -> str:
    """Sign a checkpoint; return the signature as 128 hex digits."""
    return key.sign(signed.message()).hex()


def signature_holds(public_key_hex: str, signed: Signed, signature_hex: str) -> bool:
    """Tell whether ``signature_hex`` is the key's signature of ``signed``."""
    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        public.verify(bytes.fromhex(signature_hex), signed.message())
    except (ValueError, InvalidSignature):
        return False
    return True


def parse_public_key(text: str) -> str:
    """Read a public key given as 64 hex digits or base64 of its 32 bytes; return it as hex."""
    value = text.strip()
    try:
        if len(value) == 2 * SEED_BYTES:
            raw = bytes.fromhex(value)
        else:
            raw = base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) != SEED_BYTES:
        raise CheckpointKeyError("the key must be 64 hex digits (as `tanggap audit key` prints it)")
    return raw.hex()


def load_key(settings: Settings) -> Ed25519PrivateKey:
    """Return the checkpoint key the settings name. In development a missing key file is
    generated (readable by its owner only); elsewhere a missing key is an error."""
    if settings.audit_key:
        return _from_seed(settings.audit_key.get_secret_value(), "TANGGAP_AUDIT_KEY")
    if settings.env == "test" and settings.audit_key_file is None:
        # Tests sign with a key derived from their secret; it protects nothing and never leaves.
        seed = hashlib.sha256(f"audit-checkpoints:{settings.secret_key}".encode()).digest()
        return Ed25519PrivateKey.from_private_bytes(seed)
    path = settings.audit_key_file
    if path is None:
        if settings.env != "development":
            raise CheckpointKeyError(
                f"TANGGAP_ENV={settings.env} needs a checkpoint key: set TANGGAP_AUDIT_KEY_FILE "
                "(a PEM Ed25519 private key) or TANGGAP_AUDIT_KEY (its 32-byte seed, base64)"
            )
        path = DEVELOPMENT_KEY_FILE
        if not path.exists():
            _generate(path)
    return _from_file(path)


DEVELOPMENT_KEY_FILE = Path("var") / "audit-checkpoint-key.pem"


def _from_seed(text: str, setting: str) -> Ed25519PrivateKey:
    try:
        seed = base64.b64decode(text.strip(), validate=True)
    except (ValueError, binascii.Error):
        seed = b""
    if len(seed) != SEED_BYTES:
        raise CheckpointKeyError(f"{setting} must be the base64 of 32 random bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _from_file(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise CheckpointKeyError(
            f"TANGGAP_AUDIT_KEY_FILE: cannot read {path}: {exc.strerror}"
        ) from None
    except ValueError:
        raise CheckpointKeyError(
            f"TANGGAP_AUDIT_KEY_FILE: {path} is not a PEM private key"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointKeyError(f"TANGGAP_AUDIT_KEY_FILE: {path} holds a key that is not Ed25519")
    return key


def _generate(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Created readable by its owner only, and never over a key another process wrote meanwhile.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem)
