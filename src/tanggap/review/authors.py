"""What a reviewer sees of a post's author: how many of their other posts were removed, so that
someone who keeps posting removed content is visible where the decision is made."""

from __future__ import annotations

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from tanggap.appeals.models import Appeal, AppealState
from tanggap.cases.models import Case, Decision, DecisionState
from tanggap.posts.authors import all_refs
from tanggap.posts.models import Post

# Outcomes that take the post down.
REMOVING_OUTCOMES = ("remove", "ban_member")


def removed_posts(*, session: Session, author_ref: str, besides_post_id: int) -> int:
    """Count the author's other posts whose removal stands (decided, not reversed on appeal),
    under every pseudonym the author is known by (``posts.authors``)."""
    reversed_on_appeal = exists().where(
        and_(Appeal.appealed_decision_id == Decision.id, Appeal.state == AppealState.REVERSED)
    )
    return session.execute(
        select(func.count(func.distinct(Post.id)))
        .join(Case, Case.post_id == Post.id)
        .join(Decision, Decision.case_id == Case.id)
        .where(Post.author_ref.in_(all_refs(session=session, refs=[author_ref])))
        .where(Post.id != besides_post_id)
        .where(Decision.state == DecisionState.FINAL)
        .where(Decision.outcome.in_(REMOVING_OUTCOMES))
        .where(~reversed_on_appeal)
    ).scalar_one()
