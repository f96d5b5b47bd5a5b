"""Run a write under an ``Idempotency-Key``: the first answer is stored and replayed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tanggap.auth.schemas import Caller
from tanggap.idempotency import service as idempotency

Work = Callable[[], tuple[int, dict[str, Any]]]


def run(
    *,
    session: Session,
    caller: Caller,
    endpoint: str,
    key: str | None,
    payload: Any,
    secret_key: str,
    work: Work,
) -> tuple[int, dict[str, Any], bool]:
    """Do ``work`` once per key and commit; return status, body and whether it is fresh."""
    if key is None:
        status, body = work()
        session.commit()
        return status, body, True
    key = idempotency.check_key(key)
    fingerprint = idempotency.request_hash(payload, secret_key=secret_key)
    for _ in range(3):
        try:
            stored = idempotency.lookup(
                session=session,
                principal_id=caller.id,
                endpoint=endpoint,
                key=key,
                fingerprint=fingerprint,
            )
            if stored is not None:
                # Read before the rollback: afterwards the record is expired, and reading it
                # would open a transaction (SQLite's write lock) that lasts until the request ends.
                status, body = stored.status_code, stored.response
                session.rollback()
                return status, body, False
            record = idempotency.reserve(
                session=session,
                principal_id=caller.id,
                endpoint=endpoint,
                key=key,
                fingerprint=fingerprint,
            )
            status, body = work()
            idempotency.store(record=record, status_code=status, response=body)
            session.commit()
            return status, body, True
        except IntegrityError:
            # A concurrent request with the same key committed first: replay its answer.
            session.rollback()
    raise RuntimeError("idempotency key could be neither stored nor read back")


def response(status: int, body: dict[str, Any], fresh: bool) -> JSONResponse:
    """Turn a result of ``run`` into the HTTP answer, marking replays."""
    headers = None if fresh else {"Idempotent-Replayed": "true"}
    return JSONResponse(body, status_code=status, headers=headers)
