"""Channels: create or update from the platform's metadata."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.channels.models import Channel
from tanggap.channels.schemas import ChannelIn

_FIELDS = ("title", "country", "subscribers", "description")


def channel_url(handle: str) -> str:
    """Return the public link of a channel."""
    return f"https://t.me/{handle}"


def get_by_handle(*, session: Session, handle: str) -> Channel | None:
    """Return the channel with this (already normalised) handle, or None."""
    return session.execute(select(Channel).where(Channel.handle == handle)).scalar_one_or_none()


def ensure(*, session: Session, handle: str, actor: str) -> tuple[Channel, bool]:
    """Return the channel for ``handle``, creating a bare one when it is new."""
    channel = get_by_handle(session=session, handle=handle)
    if channel is not None:
        return channel, False
    channel = Channel(handle=handle)
    try:
        with session.begin_nested():
            session.add(channel)
    except IntegrityError:
        # Created concurrently by another request, which committed first.
        found = get_by_handle(session=session, handle=handle)
        assert found is not None
        return found, False
    audit.record(
        session=session,
        actor=actor,
        action="channel.created",
        subject_type="channel",
        subject_id=channel.id,
        data={"handle": handle},
    )
    return channel, True


def ensure_many(*, session: Session, handles: Collection[str], actor: str) -> dict[str, int]:
    """Return the ids of the channels for ``handles``, creating bare ones for those that are
    new: one query when all exist."""
    if not handles:
        return {}
    found = dict(
        session.execute(select(Channel.handle, Channel.id).where(Channel.handle.in_(handles))).all()
    )
    for handle in sorted(set(handles) - found.keys()):
        found[handle] = ensure(session=session, handle=handle, actor=actor)[0].id
    return found


def upsert(*, session: Session, data: ChannelIn, actor: str) -> tuple[Channel, bool]:
    """Create the channel or update the metadata fields the platform sent."""
    channel, created = ensure(session=session, handle=data.handle, actor=actor)
    changes = {
        name: getattr(data, name)
        for name in _FIELDS
        if name in data.model_fields_set and getattr(channel, name) != getattr(data, name)
    }
    _change(session, channel, changes, actor)
    return channel, created


def link_platform(
    *, session: Session, channel: Channel, platform: str, platform_ref: str, actor: str
) -> None:
    """Record the platform a channel lives on and the platform's own id of it, audited when it
    changes."""
    if (channel.platform, channel.platform_ref) != (platform, platform_ref):
        _change(session, channel, {"platform": platform, "platform_ref": platform_ref}, actor)


def _change(session: Session, channel: Channel, changes: dict[str, Any], actor: str) -> None:
    """Set ``changes`` on the channel, audited as ``channel.updated`` (nothing when empty)."""
    if not changes:
        return
    for name, value in changes.items():
        setattr(channel, name, value)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="channel.updated",
        subject_type="channel",
        subject_id=channel.id,
        data={"changed": changes},
    )


def list_channels(*, session: Session) -> list[Channel]:
    """Return every channel, by handle."""
    return list(session.execute(select(Channel).order_by(Channel.handle)).scalars())
