"""Platform adapters: how an action reaches the platform. One tiny interface, several engines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.channels.models import Channel
from tanggap.db.base import utcnow
from tanggap.platform.models import Restriction
from tanggap.posts.models import Post

ActionKind = Literal[
    "remove_post", "geo_restrict_post", "ban_channel", "restore_post", "restore_channel"
]


@dataclass(frozen=True)
class PlatformAction:
    """What the platform is asked to do; ``idempotency_key`` is the same on every retry."""

    idempotency_key: str
    kind: ActionKind
    channel: str
    message_id: int | None
    countries: tuple[str, ...] = ()
    ground: str | None = None
    policy_ref: str | None = None
    policy_name: str | None = None


class PlatformAdapter(Protocol):
    """Applies actions to a platform; applying the same key twice must change nothing."""

    def apply(self, action: PlatformAction, *, session: Session) -> None:
        """Apply ``action``; raise to have it retried later.

        ``session`` is the outbox transaction: an adapter that lives in this database (the
        built-in pages) writes through it; a remote adapter ignores it.
        """


class BuiltinPagesAdapter:
    """Applies actions to the built-in public channel pages (``/c/<channel>``)."""

    def apply(self, action: PlatformAction, *, session: Session) -> None:
        """Record the restriction or lift it, once per idempotency key."""
        done = session.execute(
            select(Restriction.id).where(Restriction.action_key == action.idempotency_key)
        ).first()
        if done is not None:
            return
        channel = session.execute(
            select(Channel).where(Channel.handle == action.channel)
        ).scalar_one()
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
        kind = {
            "remove_post": "removed",
            "geo_restrict_post": "geo_restricted",
            "ban_channel": "banned",
            "restore_post": "restored",
            "restore_channel": "restored",
        }[action.kind]
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


@dataclass
class RecordingAdapter:
    """Keeps every action it is given in memory; for unit tests and dry runs."""

    applied: list[PlatformAction] = field(default_factory=list)
    fail_times: int = 0

    def apply(self, action: PlatformAction, *, session: Session) -> None:
        """Remember ``action``, or fail while ``fail_times`` lasts."""
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("platform unavailable")
        if all(a.idempotency_key != action.idempotency_key for a in self.applied):
            self.applied.append(action)
