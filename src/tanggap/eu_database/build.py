"""A decision's statement of reasons as the EU Transparency Database takes it (API v1, the
schema of 1 July 2025), built from the statement Tanggap shows the affected people
(``appeals.statement``), so that both always say the same."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from tanggap.appeals.schemas import StatementOfReasons
from tanggap.eu_database import fields

PUID_PREFIX = "tanggap-decision-"
GROUND_EXPLANATION_MAX = 2000


@dataclass(frozen=True)
class PostFacts:
    """What the statement says of the post itself."""

    posted_at: datetime
    has_text: bool
    has_media: bool
    language: str | None  # ISO 639-1 as detected, or None / "und"


def puid_of(decision_id: uuid.UUID) -> str:
    """Return the platform's unique id of a decision's statement: stable, in the database's
    alphabet, far under its 500 characters."""
    return f"{PUID_PREFIX}{decision_id}"


def eea_scope(territorial_scope: list[str]) -> list[str]:
    """Return the EEA countries a restriction covers (``*``: everywhere, so all of them), in
    the database's order; the others are outside its scope."""
    if "*" in territorial_scope:
        return sorted(fields.EEA)
    return sorted({code.upper() for code in territorial_scope} & fields.EEA)


def build(statement: StatementOfReasons, post: PostFacts) -> dict[str, object]:
    """Return the database's statement of a first-instance decision that restricts a post
    (every restriction Tanggap takes is permanent: the end dates stay null)."""
    body: dict[str, object] = {
        "decision_ground": statement.decision_ground,
        "content_type": _content_types(post),
        "category": statement.dsa_category,
        "category_specification": [statement.dsa_keyword],
        "territorial_scope": eea_scope(statement.territorial_scope),
        "content_date": post.posted_at.date().isoformat(),
        "application_date": (statement.application_date or statement.decided_at).date().isoformat(),
        "decision_facts": statement.facts_and_circumstances,
        "source_type": statement.source_type,
        "automated_detection": "Yes" if statement.automated_detection else "No",
        "automated_decision": statement.automated_decision,
        "puid": puid_of(statement.decision_id),
        "end_date_account_restriction": None,
        "end_date_monetary_restriction": None,
        "end_date_service_restriction": None,
        "end_date_visibility_restriction": None,
    }
    if statement.decision_visibility is not None:
        body["decision_visibility"] = [statement.decision_visibility]
    if statement.decision_account is not None:
        body["decision_account"] = statement.decision_account
    explanation = _shortened(statement.facts_and_circumstances, GROUND_EXPLANATION_MAX)
    if statement.decision_ground == fields.ILLEGAL:
        body["illegal_content_legal_ground"] = statement.legal_ground
        body["illegal_content_explanation"] = explanation
    elif statement.decision_ground == fields.INCOMPATIBLE:
        body["incompatible_content_ground"] = statement.incompatible_content_ground
        body["incompatible_content_explanation"] = explanation
    if statement.dsa_keyword == "KEYWORD_OTHER":
        body["category_specification_other"] = statement.category_name[:500]
    language = (post.language or "").upper()
    if language in fields.LANGUAGES:
        body["content_language"] = language
    return body


def _content_types(post: PostFacts) -> list[str]:
    kinds = []
    if post.has_text:
        kinds.append("CONTENT_TYPE_TEXT")
    if post.has_media:
        kinds.append("CONTENT_TYPE_IMAGE")
    return kinds or ["CONTENT_TYPE_TEXT"]


def _shortened(text: str, limit: int) -> str:
    """The explanation within the ground's limit: the full text stays in decision_facts."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"
