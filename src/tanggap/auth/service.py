"""Principals and bearer tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.auth.models import ApiToken, Principal
from tanggap.auth.schemas import Caller, Role
from tanggap.db.base import utcnow

TOKEN_PREFIX = "tgp_"


@dataclass(frozen=True)
class IssuedToken:
    """A token as issued: its id (to revoke it) and its only plain-text copy."""

    id: uuid.UUID
    token: str


def hash_token(token: str) -> str:
    """Return the SHA-256 under which a token is stored (tokens are random, so no salt)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """Return a fresh random bearer token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def demo_token(*, secret_key: str, name: str) -> str:
    """Derive a stable token for a demo principal, so ``make run`` can print it on every start."""
    digest = hmac.new(secret_key.encode(), f"tanggap.demo-token\x00{name}".encode(), hashlib.sha256)
    return f"{TOKEN_PREFIX}demo_{name}_{digest.hexdigest()[:32]}"


def create_principal(
    *,
    session: Session,
    role: Role,
    name: str,
    org_id: uuid.UUID | None = None,
    email: str | None = None,
    actor: str = audit.SYSTEM_ACTOR,
) -> Principal:
    """Create a principal of ``role``; flaggers must belong to an organisation."""
    if role == "flagger" and org_id is None:
        raise ValueError("a flagger principal needs an organisation")
    principal = Principal(role=role, name=name, org_id=org_id, email=email)
    session.add(principal)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="principal.created",
        subject_type="principal",
        subject_id=principal.id,
        data={"role": role, "org_id": str(org_id) if org_id else None},
    )
    return principal


def issue_token(
    *,
    session: Session,
    principal: Principal,
    token: str | None = None,
    actor: str = audit.SYSTEM_ACTOR,
) -> IssuedToken:
    """Store a token for ``principal`` and return its only plain-text copy."""
    token = token or new_token()
    record = ApiToken(principal_id=principal.id, token_hash=hash_token(token), prefix=token[:12])
    session.add(record)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="token.issued",
        subject_type="principal",
        subject_id=principal.id,
        data={"token_id": str(record.id), "prefix": record.prefix},
    )
    return IssuedToken(id=record.id, token=token)


def authenticate(*, session: Session, token: str) -> Caller | None:
    """Return the caller a bearer token belongs to, or None when it is unknown or revoked."""
    row = session.execute(
        select(Principal)
        .join(ApiToken, ApiToken.principal_id == Principal.id)
        .where(ApiToken.token_hash == hash_token(token))
        .where(ApiToken.revoked_at.is_(None))
        .where(Principal.disabled_at.is_(None))
    ).scalar_one_or_none()
    if row is None:
        return None
    return Caller(id=row.id, role=row.role, name=row.name, org_id=row.org_id)


def find_callers(*, session: Session, name_or_id: str) -> list[Caller]:
    """Return the enabled principals whose id or name is ``name_or_id``."""
    try:
        match = Principal.id == uuid.UUID(name_or_id)
    except ValueError:
        match = Principal.name == name_or_id
    rows = session.execute(
        select(Principal).where(match).where(Principal.disabled_at.is_(None))
    ).scalars()
    return [Caller(id=row.id, role=row.role, name=row.name, org_id=row.org_id) for row in rows]


def revoke_token(*, session: Session, token_id: uuid.UUID, actor: str) -> bool:
    """Revoke one token; return False when it does not exist or was already revoked."""
    record = session.get(ApiToken, token_id)
    if record is None or record.revoked_at is not None:
        return False
    record.revoked_at = utcnow()
    audit.record(
        session=session,
        actor=actor,
        action="token.revoked",
        subject_type="principal",
        subject_id=record.principal_id,
        data={"token_id": str(token_id)},
    )
    return True
