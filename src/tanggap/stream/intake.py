"""Store a batch of posts from the stream through the batch route's service, one transaction."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from tanggap.auth import service as auth
from tanggap.auth.schemas import Caller
from tanggap.errors import TanggapError
from tanggap.posts import service as posts
from tanggap.posts.schemas import PostIn
from tanggap.posts.service import IngestResult
from tanggap.runtime import Runtime


class StreamSetupError(Exception):
    """The stream cannot be consumed as configured; the message says which setting to fix."""


class NoRoomForImages(Exception):
    """The images of the batch would overflow the queue of images to hash: try again later."""


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


def store_batch(
    runtime: Runtime, caller: Caller, batch: list[PostIn]
) -> list[IngestResult | TanggapError]:
    """Store the posts in one transaction, each in a savepoint (a refused post is rolled back
    alone, its error in its place), commit, then do what the batch route does after its commit."""
    if not runtime.has_room_for(batch):
        raise NoRoomForImages("too many images wait to be hashed")
    with runtime.factory() as session, session.begin():
        outcomes = posts.ingest_batch(
            session=session,
            posts=batch,
            secret_key=runtime.settings.secret_key,
            actor=caller.audit_actor,
            inspector=runtime.pipeline,
            owner_id=caller.id,
            each=True,
        )
    runtime.after_ingest([outcome for outcome in outcomes if isinstance(outcome, IngestResult)])
    return outcomes
