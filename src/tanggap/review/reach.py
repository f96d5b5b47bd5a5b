"""What a decision may ask of the platform a post lives on, checked when the decision is made:
an action the platform cannot carry out is refused then, never queued to fail later."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.actions.models import ActionKind
from tanggap.actions.service import KINDS_OF_OUTCOME, MEMBER_KINDS
from tanggap.channels import members
from tanggap.channels.models import Channel
from tanggap.errors import InvalidInput
from tanggap.platforms.telegram import platform_of, refusal
from tanggap.posts.models import Post

NO_MEMBER = (
    "Tanggap holds no Telegram id for this post's author: only a member who posted in a "
    "group while the connector ran can be banned (not a channel, nor an anonymous admin)"
)


def platform_of_post(session: Session, post: Post, default_platform: str) -> str:
    """Return the platform the post's channel lives on."""
    stored = session.execute(
        select(Channel.platform).where(Channel.id == post.channel_id)
    ).scalar_one()
    return platform_of(stored, default_platform)


def member_known(session: Session, post: Post) -> bool:
    """Tell whether Tanggap holds the sealed id of the post's author in the post's group."""
    chat_ref = session.execute(
        select(Channel.platform_ref).where(Channel.id == post.channel_id)
    ).scalar_one()
    if chat_ref is None:
        return False
    found = members.sealed_member(session=session, chat_ref=chat_ref, author_ref=post.author_ref)
    return found is not None


def unreachable(
    session: Session, post: Post, kinds: Iterable[ActionKind], default_platform: str
) -> str | None:
    """Return why the post's platform cannot apply an action of one of ``kinds``, or None."""
    kinds = tuple(kinds)
    if not kinds:
        return None
    platform = platform_of_post(session, post, default_platform)
    for kind in kinds:
        reason = refusal(platform=platform, kind=kind)
        if reason is None and kind in MEMBER_KINDS and not member_known(session, post):
            reason = NO_MEMBER
        if reason is not None:
            return reason
    return None


def require_reachable(session: Session, post_id: int, outcome: str, default_platform: str) -> None:
    """Refuse (422 naming ``outcome``) an outcome whose actions the post's platform cannot
    apply."""
    post = session.get(Post, post_id)
    assert post is not None
    reason = unreachable(session, post, KINDS_OF_OUTCOME.get(outcome, ()), default_platform)
    if reason is not None:
        raise InvalidInput(
            f"{outcome} cannot be carried out on this post's platform: {reason}", field="outcome"
        )


def allowed_outcomes(
    session: Session, post: Post, outcomes: Iterable[str], default_platform: str
) -> list[str]:
    """Return those of ``outcomes`` the post's platform can carry out, in their order."""
    return [
        outcome
        for outcome in outcomes
        if unreachable(session, post, KINDS_OF_OUTCOME.get(outcome, ()), default_platform) is None
    ]
