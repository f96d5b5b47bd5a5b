"""Which cases a reviewer may see and take, as SQL (the rules themselves: cases/visibility.py)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, not_, or_, true

from tanggap.cases.models import Case
from tanggap.cases.visibility import (
    FALLBACK,
    UNDETERMINED_LANGUAGE,
    is_fallback,
    queue_for,
    uncleared,
    visibility_of,
)
from tanggap.policy.schemas import Policy
from tanggap.reviewers.schemas import Skills

__all__ = [
    "FALLBACK",
    "UNDETERMINED_LANGUAGE",
    "is_fallback",
    "may_see",
    "may_take",
    "queue_for",
    "uncleared",
]


def may_see(skills: Skills, policy: Policy) -> ColumnElement[bool]:
    """The cases ``skills`` allow: languages read (leads also the fallback queue, admins every
    language), restricted categories only with a clearance, never escalated ones below lead."""
    seen = visibility_of(skills, policy)
    hidden = sorted(seen.hidden_categories)
    category_ok: ColumnElement[bool] = not_(Case.category.in_(hidden)) if hidden else true()
    if seen.languages is None:
        return category_ok
    reads = Case.language.in_(sorted(seen.languages))
    language_ok = or_(reads, Case.queue.like(f"{FALLBACK}:%")) if seen.fallback else reads
    if seen.lead_only:
        return and_(category_ok, language_ok)
    return and_(category_ok, language_ok, Case.lead_only.is_(False))


def may_take(skills: Skills, policy: Policy) -> ColumnElement[bool]:
    """The cases ``skills`` allow to claim: those they may see, except an appeal against the
    reviewer's own decision."""
    return and_(
        may_see(skills, policy),
        or_(
            Case.excluded_reviewer_id.is_(None),
            Case.excluded_reviewer_id != skills.principal_id,
        ),
    )
