"""Which queue a case sits in and who may see it (pure: no database).

``cases/routing.py`` writes the same rules as SQL for the queries; the simulator
(``tanggap.simulation``) applies them to cases held in memory.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from tanggap.auth.schemas import LEAD_ROLES
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


@dataclass(frozen=True)
class Visibility:
    """What one staff member may see: categories hidden from them, the languages they read
    (None: every language), and whether they also see the fallback queue and cases escalated
    to the leads."""

    hidden_categories: frozenset[str]
    languages: frozenset[str] | None
    fallback: bool
    lead_only: bool


def visibility_of(skills: Skills, policy: Policy) -> Visibility:
    """Return what ``skills`` allow: languages read (leads also the fallback queue, admins every
    language), restricted categories only with a clearance, escalated cases from lead up."""
    hidden = frozenset(uncleared(skills, policy))
    if skills.role == "admin":
        return Visibility(hidden, languages=None, fallback=True, lead_only=True)
    lead = skills.role in LEAD_ROLES
    reads = frozenset(skills.languages | {UNDETERMINED_LANGUAGE})
    return Visibility(hidden, languages=reads, fallback=lead, lead_only=lead)


def sees(
    visibility: Visibility, *, language: str | None, category: str, queue: str, lead_only: bool
) -> bool:
    """Tell whether a case with these attributes is one ``visibility`` allows."""
    if category in visibility.hidden_categories:
        return False
    if visibility.languages is None:
        return True
    if lead_only and not visibility.lead_only:
        return False
    return language in visibility.languages or (visibility.fallback and is_fallback(queue))
