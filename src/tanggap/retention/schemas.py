"""Erasure in and out."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tanggap.validation import Input


class ErasureIn(Input):
    """The platform asks that one of its users' personal data be erased."""

    # The platform's own id of the user, as it sends ``author_id`` with posts; turned into the
    # user's pseudonyms at once and never stored.
    platform_user_id: str = Field(min_length=1, max_length=128)


class ErasureOut(BaseModel):
    """What the erasure found and did, in counts."""

    erasure_id: str
    posts_erased: int
    posts_kept_as_evidence: int = Field(
        description="posts a case or a standing decision still needs (docs/retention.md)"
    )
    appeal_reasons: int
    report_notes: int
    telegram_members: int
    pseudonym_links: int
