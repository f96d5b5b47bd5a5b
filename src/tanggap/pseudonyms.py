"""Keyed pseudonyms: the only form in which a platform user's id is ever kept."""

from __future__ import annotations

import hashlib
import hmac

_CONTEXT = b"tanggap.user-ref.v1\x00"


def user_ref(*, secret_key: str, platform_user_id: str) -> str:
    """Return the pseudonym of a platform user: HMAC-SHA256 of the id under the secret key."""
    if not platform_user_id:
        raise ValueError("platform_user_id must not be empty")
    digest = hmac.new(
        secret_key.encode("utf-8"), _CONTEXT + platform_user_id.encode("utf-8"), hashlib.sha256
    )
    return digest.hexdigest()
