"""Trusted flagger organisations."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.flaggers.models import FlaggerOrg
from tanggap.flaggers.schemas import FlaggerOrgIn


class FlaggerOrgExists(ValueError):
    """An organisation of that name exists already."""


def get_by_name(*, session: Session, name: str) -> FlaggerOrg | None:
    """Return the organisation called ``name`` (case-insensitive), or None."""
    return session.execute(
        select(FlaggerOrg).where(func.lower(FlaggerOrg.name) == name.strip().lower())
    ).scalar_one_or_none()


def create(*, session: Session, data: FlaggerOrgIn, actor: str = audit.SYSTEM_ACTOR) -> FlaggerOrg:
    """Create a flagger organisation."""
    if get_by_name(session=session, name=data.name) is not None:
        raise FlaggerOrgExists(f"a flagger organisation named {data.name!r} exists already")
    org = FlaggerOrg(
        name=data.name,
        country=data.country.upper(),
        trust=data.trust,
        contact_email=data.contact_email,
    )
    session.add(org)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="flagger_org.created",
        subject_type="flagger_org",
        subject_id=org.id,
        data={"name": org.name, "country": org.country, "trust": org.trust},
    )
    return org
