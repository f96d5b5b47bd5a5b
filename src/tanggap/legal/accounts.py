"""Legal officers: people who log into the console's register and hold its API tokens."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.auth import logins
from tanggap.auth import service as auth
from tanggap.auth.models import Principal
from tanggap.legal.schemas import OfficerIn


@dataclass
class NewOfficer:
    """A legal officer just created, with the one-time password to hand over."""

    principal: Principal
    one_time_password: str


def create_officer(
    *, session: Session, data: OfficerIn, actor: str = audit.SYSTEM_ACTOR
) -> NewOfficer:
    """Create a legal officer who logs into the console with a one-time password."""
    email = logins.require_free_email(session=session, email=data.email)
    principal = auth.create_principal(
        session=session, role="legal", name=data.name or email, email=email, actor=actor
    )
    principal.language = "id"
    return NewOfficer(
        principal=principal,
        one_time_password=logins.grant_login(session=session, principal=principal),
    )
