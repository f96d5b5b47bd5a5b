"""Trusted flagger organisations, their members and their API tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.auth import logins
from tanggap.auth import service as auth
from tanggap.auth.models import NAME_LENGTH, ApiToken, Principal
from tanggap.errors import Conflict, NotFound
from tanggap.flaggers.models import FlaggerOrg
from tanggap.flaggers.schemas import FlaggerOrgIn, MemberIn
from tanggap.validation import folded


class FlaggerOrgExists(Conflict):
    """An organisation of that name exists already."""


def new_webhook_secret() -> str:
    """Return a fresh secret to sign an organisation's webhooks with."""
    return "whsec_" + secrets.token_urlsafe(32)


def name_key(name: str) -> str:
    """Return the key two names share when they name the same organisation."""
    return hashlib.sha256(folded(name).encode()).hexdigest()


def get_by_name(*, session: Session, name: str) -> FlaggerOrg | None:
    """Return the organisation called ``name`` (case-insensitive), or None."""
    return session.execute(
        select(FlaggerOrg).where(FlaggerOrg.name_key == name_key(name))
    ).scalar_one_or_none()


def get(*, session: Session, org_id: uuid.UUID) -> FlaggerOrg:
    """Return one organisation or raise NotFound."""
    org = session.get(FlaggerOrg, org_id)
    if org is None:
        raise NotFound(f"no flagger organisation {org_id}", field="org_id")
    return org


def find(*, session: Session, name_or_id: str) -> FlaggerOrg:
    """Return the organisation named ``name_or_id`` or with that id; raise NotFound."""
    try:
        by_id = session.get(FlaggerOrg, uuid.UUID(name_or_id))
    except ValueError:
        by_id = None
    org = by_id or get_by_name(session=session, name=name_or_id)
    if org is None:
        raise NotFound(f"no flagger organisation {name_or_id!r}", field="org")
    return org


def list_orgs(*, session: Session) -> list[FlaggerOrg]:
    """Return every organisation by name."""
    return list(session.execute(select(FlaggerOrg).order_by(FlaggerOrg.name)).scalars())


def create(*, session: Session, data: FlaggerOrgIn, actor: str = audit.SYSTEM_ACTOR) -> FlaggerOrg:
    """Create a flagger organisation with its own webhook secret."""
    if get_by_name(session=session, name=data.name) is not None:
        raise FlaggerOrgExists(
            f"a flagger organisation named {data.name!r} exists already", field="name"
        )
    country = data.country.upper()
    org = FlaggerOrg(
        name=data.name,
        name_key=name_key(data.name),
        country=country,
        trust=data.trust,
        contact_email=data.contact_email,
        webhook_url=data.webhook_url,
        webhook_secret=new_webhook_secret(),
        language=data.language or ("id" if country == "ID" else "en"),
    )
    try:
        with session.begin_nested():
            session.add(org)
    except IntegrityError:
        # Created at the same moment by someone else: the unique key caught what the check missed.
        raise FlaggerOrgExists(
            f"a flagger organisation named {data.name!r} exists already", field="name"
        ) from None
    audit.record(
        session=session,
        actor=actor,
        action="flagger_org.created",
        subject_type="flagger_org",
        subject_id=org.id,
        data={
            "name": org.name,
            "country": org.country,
            "trust": org.trust,
            "webhook_url": org.webhook_url,
        },
    )
    return org


@dataclass(frozen=True)
class NewMember:
    """A member just created and the password to hand over once."""

    principal: Principal
    one_time_password: str


def add_member(
    *, session: Session, org: FlaggerOrg, data: MemberIn, actor: str = audit.SYSTEM_ACTOR
) -> NewMember:
    """Create a portal member of ``org`` with a one-time password they must change."""
    email = logins.require_free_email(session=session, email=data.email)
    principal = auth.create_principal(
        session=session,
        role="flagger",
        name=(data.name or email)[:NAME_LENGTH],
        org_id=org.id,
        email=email,
        actor=actor,
    )
    principal.language = org.language
    password = logins.grant_login(session=session, principal=principal)
    return NewMember(principal=principal, one_time_password=password)


def issue_org_token(
    *, session: Session, org: FlaggerOrg, name: str | None = None, actor: str = audit.SYSTEM_ACTOR
) -> auth.IssuedToken:
    """Create an API principal for ``org`` and return its token."""
    principal = auth.create_principal(
        session=session,
        role="flagger",
        name=(name or f"{org.name} API")[:NAME_LENGTH],
        org_id=org.id,
        actor=actor,
    )
    return auth.issue_token(session=session, principal=principal, actor=actor)


def org_tokens(*, session: Session, org: FlaggerOrg) -> list[ApiToken]:
    """Return the organisation's API tokens, newest first (revoked ones included)."""
    return list(
        session.execute(
            select(ApiToken)
            .join(Principal, Principal.id == ApiToken.principal_id)
            .where(Principal.org_id == org.id)
            .order_by(ApiToken.created_at.desc())
        ).scalars()
    )
