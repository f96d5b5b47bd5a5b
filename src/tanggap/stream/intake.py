"""Store a batch from the stream (posts through the batch route's service, channels' metadata
as the channel route stores it) in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from tanggap.auth import service as auth
from tanggap.auth.schemas import Caller
from tanggap.channels import service as channels
from tanggap.channels.schemas import ChannelIn
from tanggap.errors import TanggapError
from tanggap.posts.batch import ingest_batch
from tanggap.posts.schemas import PostIn
from tanggap.posts.service import IngestResult
from tanggap.runtime import Runtime


class StreamSetupError(Exception):
    """The stream cannot be consumed as configured; the message says which setting to fix."""


def stream_caller(runtime: Runtime, name_or_id: str | None) -> Caller:
    """Return the platform principal the stream speaks for, or refuse naming the setting."""
    if not name_or_id:
        raise StreamSetupError(
            "TANGGAP_STREAM_PRINCIPAL: name the platform principal the stream speaks for "
            "(its id or name; `tanggap token create --role platform --name …` makes one)"
        )
    with runtime.factory() as session:
        found = auth.find_callers(session=session, name_or_id=name_or_id)
    platforms = [caller for caller in found if caller.role == "platform"]
    if not platforms:
        roles = " or ".join(sorted({caller.role for caller in found}))
        kind = f"a principal of role {roles}" if found else "no enabled principal"
        raise StreamSetupError(
            f"TANGGAP_STREAM_PRINCIPAL: {name_or_id!r} is {kind}, not a platform principal"
        )
    if len(platforms) > 1:
        raise StreamSetupError(
            f"TANGGAP_STREAM_PRINCIPAL: {len(platforms)} platform principals are named "
            f"{name_or_id!r}; give the id of one"
        )
    return platforms[0]


def is_outage(error: Exception) -> bool:
    """Tell whether a failure is the database's (unreachable, restarting, locked, deadlocked):
    the batch is tried again, not refused."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError | InterfaceError)


@dataclass(frozen=True)
class ChannelStored:
    """A channel's metadata stored from the stream."""

    handle: str
    created: bool


def store_batch(
    runtime: Runtime, caller: Caller, batch: Sequence[PostIn | ChannelIn]
) -> list[IngestResult | ChannelStored | TanggapError]:
    """Store the batch in one transaction, commit, then do what the batch route does after its
    commit; return what became of each item, in order. Channels' metadata goes first (posts
    never change it, so this is the stream's order in effect); then each post in a savepoint of
    its own (a refused post is rolled back alone, its error in its place)."""
    # The posts' files were hashed before (stream.media): nothing waits in memory for a hash.
    posts_in = [item for item in batch if isinstance(item, PostIn)]
    with runtime.factory() as session, session.begin():
        stored = {
            index: _store_channel(session, item, caller)
            for index, item in enumerate(batch)
            if isinstance(item, ChannelIn)
        }
        ingested = ingest_batch(
            session=session,
            posts=posts_in,
            keyring=runtime.settings.keyring,
            actor=caller.audit_actor,
            inspector=runtime.pipeline,
            owner_id=caller.id,
            each=True,
        )
    runtime.after_ingest([outcome for outcome in ingested if isinstance(outcome, IngestResult)])
    in_order = iter(ingested)
    return [stored[index] if index in stored else next(in_order) for index in range(len(batch))]


def _store_channel(session: Session, data: ChannelIn, caller: Caller) -> ChannelStored:
    """Create or update a channel as ``POST /v1/channels`` does (a resend changes nothing)."""
    channel, created = channels.upsert(session=session, data=data, actor=caller.audit_actor)
    return ChannelStored(handle=channel.handle, created=created)
