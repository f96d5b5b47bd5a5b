"""Remember the first answer to a keyed request so that retries get it again."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.audit.chain import canonical_json
from tanggap.errors import InvalidInput
from tanggap.idempotency.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


def check_key(key: str) -> str:
    """Return a usable ``Idempotency-Key`` or raise InvalidInput naming the header."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise InvalidInput(
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable ASCII characters",
            field="Idempotency-Key",
        )
    return key


def request_hash(payload: Any, *, secret_key: str) -> str:
    """Fingerprint a request body, so a key reused for a different request is caught.

    Keyed (HMAC), because a body may hold a platform user's id: a plain hash of it could be
    reversed by trying ids.
    """
    body = canonical_json(payload).encode("utf-8")
    return hmac.new(secret_key.encode("utf-8"), body, hashlib.sha256).hexdigest()


def lookup(
    *, session: Session, principal_id: uuid.UUID, endpoint: str, key: str, fingerprint: str
) -> IdempotencyRecord | None:
    """Return the stored answer for this key, or None; a different body under the key is refused."""
    record = session.execute(
        select(IdempotencyRecord).where(
            IdempotencyRecord.principal_id == principal_id,
            IdempotencyRecord.endpoint == endpoint,
            IdempotencyRecord.key == key,
        )
    ).scalar_one_or_none()
    if record is not None and record.request_hash != fingerprint:
        raise InvalidInput(
            "this Idempotency-Key was used before with a different request body",
            field="Idempotency-Key",
            code="idempotency_key_reused",
        )
    return record


def reserve(
    *, session: Session, principal_id: uuid.UUID, endpoint: str, key: str, fingerprint: str
) -> IdempotencyRecord:
    """Insert the key before the work starts; a concurrent twin blocks on it, then fails."""
    record = IdempotencyRecord(
        principal_id=principal_id,
        endpoint=endpoint,
        key=key,
        request_hash=fingerprint,
        status_code=0,
        response={},
    )
    session.add(record)
    session.flush()
    return record


def store(*, record: IdempotencyRecord, status_code: int, response: dict[str, Any]) -> None:
    """Keep the answer that retries will get."""
    record.status_code = status_code
    record.response = response
