"""The platform adapter of the built-in pages: an action becomes a restriction in Tanggap's own
database, once per idempotency key."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tanggap.actions.platform import PlatformAction
from tanggap.builtin_pages.models import Restriction, RestrictionKind
from tanggap.channels.models import Channel
from tanggap.db.base import utcnow
from tanggap.posts.models import Post

KIND_OF_ACTION: dict[str, RestrictionKind] = {
    "remove_post": "removed",
    "geo_restrict_post": "geo_restricted",
    "ban_channel": "banned",
    "restore_post": "restored",
    "restore_channel": "restored",
}


@dataclass
class BuiltinPagesAdapter:
    """Applies actions to the built-in public channel pages (``/c/<channel>``). The pages live
    in this database, so the adapter writes in a transaction of its own: the outbox calls it
    outside any transaction, as it calls a remote platform."""

    factory: sessionmaker[Session]

    def apply(self, action: PlatformAction) -> None:
        """Record the restriction or lift it, once per idempotency key."""
        with self.factory() as session, session.begin():
            _apply(session, action)


def _apply(session: Session, action: PlatformAction) -> None:
    done = session.execute(
        select(Restriction.id).where(Restriction.action_key == action.idempotency_key)
    ).first()
    if done is not None:
        return
    channel = session.execute(select(Channel).where(Channel.handle == action.channel)).scalar_one()
    post_id = None
    if action.message_id is not None:
        post_id = session.execute(
            select(Post.id).where(
                Post.channel_id == channel.id, Post.message_id == action.message_id
            )
        ).scalar_one()
    if action.kind in ("restore_post", "restore_channel"):
        # restore_post lifts the post's restrictions; restore_channel the channel's ban.
        for restriction in session.execute(
            select(Restriction).where(
                Restriction.channel_id == channel.id,
                Restriction.post_id.is_(None)
                if post_id is None
                else Restriction.post_id == post_id,
                Restriction.lifted_at.is_(None),
            )
        ).scalars():
            restriction.lifted_at = utcnow()
            restriction.lift_reason = "restored"
    kind = KIND_OF_ACTION[action.kind]
    session.add(
        Restriction(
            action_key=action.idempotency_key,
            kind=kind,
            channel_id=channel.id,
            post_id=post_id,
            countries=list(action.countries),
            ground=action.ground,
            policy_ref=action.policy_ref,
            policy_name=action.policy_name,
            lifted_at=utcnow() if kind == "restored" else None,
        )
    )
    session.flush()
