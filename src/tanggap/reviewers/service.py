"""Reviewer accounts: create them, read their skills, pause and resume them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.auth import logins
from tanggap.auth import service as auth
from tanggap.auth.models import Principal
from tanggap.auth.schemas import STAFF_ROLES
from tanggap.db.base import utcnow
from tanggap.errors import NotFound
from tanggap.policy.schemas import Policy
from tanggap.policy.service import require_category
from tanggap.reviewers.models import ReviewerClearance, ReviewerLanguage
from tanggap.reviewers.schemas import ReviewerIn, Skills


@dataclass
class NewReviewer:
    """A reviewer just created, with the one-time password to hand over."""

    principal: Principal
    one_time_password: str
    skills: Skills


def create(
    *, session: Session, data: ReviewerIn, policy: Policy, actor: str = audit.SYSTEM_ACTOR
) -> NewReviewer:
    """Create a reviewer (or lead, or admin) who logs into the console with a one-time password
    (see ``review.team.add_reviewer``: the cases waiting for their languages are routed again)."""
    for index, category in enumerate(data.clearances):
        require_category(policy=policy, category=category, field=f"clearances[{index}]")
    email = logins.require_free_email(session=session, email=data.email)
    principal = auth.create_principal(
        session=session, role=data.role, name=data.name or email, email=email, actor=actor
    )
    principal.language = "id" if "id" in data.languages else "en"
    session.add_all(
        ReviewerLanguage(principal_id=principal.id, language=code) for code in data.languages
    )
    clearances = sorted(set(data.clearances))
    session.add_all(
        ReviewerClearance(principal_id=principal.id, category=category) for category in clearances
    )
    password = logins.grant_login(session=session, principal=principal)
    audit.record(
        session=session,
        actor=actor,
        action="reviewer.skills_set",
        subject_type="principal",
        subject_id=principal.id,
        data={"languages": data.languages, "clearances": clearances, "role": data.role},
    )
    return NewReviewer(
        principal=principal,
        one_time_password=password,
        skills=skills_of(session=session, principal_id=principal.id),
    )


def skills_of(*, session: Session, principal_id: uuid.UUID) -> Skills:
    """Return what a staff member may take."""
    principal = session.get(Principal, principal_id)
    if principal is None or principal.role not in STAFF_ROLES:
        raise NotFound(f"no reviewer {principal_id}", field="reviewer_id")
    languages = session.execute(
        select(ReviewerLanguage.language).where(ReviewerLanguage.principal_id == principal_id)
    ).scalars()
    clearances = session.execute(
        select(ReviewerClearance.category).where(ReviewerClearance.principal_id == principal_id)
    ).scalars()
    return Skills(
        principal_id=principal_id,
        role=principal.role,
        languages=frozenset(languages),
        clearances=frozenset(clearances),
        paused=principal.paused_at is not None,
    )


def languages_read(*, session: Session) -> frozenset[str]:
    """Return every language some active staff member reads."""
    rows = session.execute(
        select(ReviewerLanguage.language)
        .join(Principal, Principal.id == ReviewerLanguage.principal_id)
        .where(Principal.disabled_at.is_(None))
        .where(Principal.role.in_(STAFF_ROLES))
        .distinct()
    ).scalars()
    return frozenset(rows)


def find_by_email(*, session: Session, email: str) -> Principal | None:
    """Return the account with ``email`` (any role), or None."""
    return session.execute(
        select(Principal).where(func.lower(Principal.email) == email.strip().lower())
    ).scalar_one_or_none()


def set_paused(*, session: Session, principal_id: uuid.UUID, paused: bool, actor: str) -> bool:
    """Pause (no new cases handed out) or resume a reviewer; return whether anything changed."""
    principal = session.get(Principal, principal_id)
    if principal is None:
        raise NotFound(f"no reviewer {principal_id}", field="reviewer_id")
    if (principal.paused_at is not None) == paused:
        return False
    principal.paused_at = utcnow() if paused else None
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="reviewer.paused" if paused else "reviewer.resumed",
        subject_type="principal",
        subject_id=principal.id,
    )
    return True
