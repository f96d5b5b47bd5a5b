"""The review team: a new reviewer's languages bring the cases waiting for them back to
triage."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.cases import service as cases
from tanggap.policy.schemas import Policy
from tanggap.reviewers import service as reviewers
from tanggap.reviewers.schemas import ReviewerIn


def add_reviewer(
    *, session: Session, data: ReviewerIn, policy: Policy, actor: str = audit.SYSTEM_ACTOR
) -> reviewers.NewReviewer:
    """Create a console account (reviewer, lead or admin) with a one-time password; cases that
    waited in the fallback queue for one of its languages are triaged again."""
    created = reviewers.create(session=session, data=data, policy=policy, actor=actor)
    cases.retriage_fallback(session=session, languages=data.languages)
    return created
