"""What a decision may ask of the platform a post lives on, checked when the decision is made:
an action the platform cannot carry out is refused then, never queued to fail later."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.actions.models import ActionKind
from tanggap.actions.service import KIND_OF_OUTCOME
from tanggap.channels.models import Channel
from tanggap.errors import InvalidInput
from tanggap.platforms.telegram import platform_of, refusal
from tanggap.posts.models import Post


def platform_of_post(session: Session, post: Post, default_platform: str) -> str:
    """Return the platform the post's channel lives on."""
    stored = session.execute(
        select(Channel.platform).where(Channel.id == post.channel_id)
    ).scalar_one()
    return platform_of(stored, default_platform)


def unreachable(
    session: Session, post: Post, kind: ActionKind | None, default_platform: str
) -> str | None:
    """Return why the post's platform cannot apply an action of ``kind``, or None."""
    if kind is None:
        return None
    return refusal(platform=platform_of_post(session, post, default_platform), kind=kind)


def require_reachable(session: Session, post_id: int, outcome: str, default_platform: str) -> None:
    """Refuse (422 naming ``outcome``) an outcome whose action the post's platform cannot
    apply."""
    post = session.get(Post, post_id)
    assert post is not None
    reason = unreachable(session, post, KIND_OF_OUTCOME.get(outcome), default_platform)
    if reason is not None:
        raise InvalidInput(
            f"{outcome} cannot be carried out on this post's platform: {reason}", field="outcome"
        )
