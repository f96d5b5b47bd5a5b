"""Password hashing (argon2id) and one-time passwords."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
# Words a person can read out over the phone; the entropy is in their number (~80 bits).
_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
MIN_LENGTH = 12


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password``."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Tell whether ``password`` matches ``password_hash``."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def one_time_password() -> str:
    """Return a random password to hand over once (the member must change it)."""
    groups = ["".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)


def check_new_password(password: str) -> None:
    """Raise ValueError unless ``password`` is acceptable as a new password."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > 256:
        raise ValueError("a password may have at most 256 characters")
