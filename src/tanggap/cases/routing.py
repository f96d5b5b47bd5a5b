"""Which queue a case sits in, and which cases a reviewer may see and take."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, and_, not_, or_, true

from tanggap.auth.schemas import LEAD_ROLES
from tanggap.cases.models import Case
from tanggap.policy.schemas import Policy
from tanggap.reviewers.schemas import Skills

UNDETERMINED_LANGUAGE = "und"
# Cases in a language no reviewer reads wait here; leads watch it.
FALLBACK = "fallback"


def queue_for(*, language: str | None, category: str, languages_read: Collection[str]) -> str:
    """Name a case's queue: ``<language>:<category>``, or ``fallback:<category>`` when nobody
    on the team reads the language (a case without language, ``und``, is anyone's)."""
    language = language or UNDETERMINED_LANGUAGE
    # No language (an image, a sticker, a few letters): anyone can look at it.
    if language != UNDETERMINED_LANGUAGE and language not in languages_read:
        return f"{FALLBACK}:{category}"
    return f"{language}:{category}"


def is_fallback(queue: str) -> bool:
    """Tell whether a queue is the fallback one."""
    return queue.startswith(f"{FALLBACK}:")


def uncleared(skills: Skills, policy: Policy) -> list[str]:
    """Return the restricted categories ``skills`` hold no clearance for."""
    return [c.id for c in policy.categories if c.restricted and c.id not in skills.clearances]


def may_see(skills: Skills, policy: Policy) -> ColumnElement[bool]:
    """The cases ``skills`` allow: languages read (leads also the fallback queue, admins every
    language), restricted categories only with a clearance, never escalated ones below lead."""
    hidden = uncleared(skills, policy)
    category_ok: ColumnElement[bool] = not_(Case.category.in_(hidden)) if hidden else true()
    if skills.role == "admin":
        return category_ok
    reads = Case.language.in_(sorted(skills.languages | {UNDETERMINED_LANGUAGE}))
    if skills.role in LEAD_ROLES:
        language_ok: ColumnElement[bool] = or_(reads, Case.queue.like(f"{FALLBACK}:%"))
        return and_(category_ok, language_ok)
    return and_(category_ok, reads, Case.lead_only.is_(False))


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
