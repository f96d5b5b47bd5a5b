"""Ingest public posts: store them once, pseudonymise authors, hand them to detection."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.channels import service as channels
from tanggap.channels.models import Channel
from tanggap.detectors.hashing import HashError, file_hashes
from tanggap.errors import Conflict, InvalidInput
from tanggap.posts.authors import link_older_keys
from tanggap.posts.inspection import PostInspector, Waiting
from tanggap.posts.models import Post, PostMedia
from tanggap.posts.schemas import HashedMediaIn, MediaIn, PostIn
from tanggap.pseudonyms import Keyring


def post_url(handle: str, message_id: int) -> str:
    """Return the public link of a post."""
    return f"https://t.me/{handle}/{message_id}"


@dataclass
class IngestResult:
    """What ingesting one post did, and the post as stored."""

    post_id: int
    channel: str
    message_id: int
    posted_at: datetime
    views: int | None
    language: str | None
    media_count: int
    created: bool
    changed: list[str] = field(default_factory=list)
    # Images to hash once the transaction commits (MediaHasher.submit).
    to_hash: list[Waiting] = field(default_factory=list)
    # Actions an automatic decision queued, to deliver once the transaction commits.
    queued_actions: tuple[uuid.UUID, ...] = ()


def _result(
    post: Post,
    handle: str,
    *,
    created: bool,
    changed: list[str] | None = None,
    to_hash: list[Waiting] | None = None,
    queued: tuple[uuid.UUID, ...] = (),
) -> IngestResult:
    return IngestResult(
        post_id=post.id,
        channel=handle,
        message_id=post.message_id,
        posted_at=post.posted_at,
        views=post.views,
        language=post.language,
        media_count=len(post.media),
        created=created,
        changed=changed or [],
        to_hash=to_hash or [],
        queued_actions=queued,
    )


def get(*, session: Session, handle: str, message_id: int, lock: bool = False) -> Post | None:
    """Return the post ``message_id`` of channel ``handle``, or None; ``lock`` holds its row."""
    query = (
        select(Post)
        .join(Channel, Channel.id == Post.channel_id)
        .where(Channel.handle == handle)
        .where(Post.message_id == message_id)
    )
    if lock:
        query = query.with_for_update(of=Post).execution_options(populate_existing=True)
    return session.execute(query).scalar_one_or_none()


def get_many(
    *, session: Session, targets: Collection[tuple[str, int]], lock: bool = False
) -> dict[tuple[str, int], Post]:
    """Return the stored posts among ``targets`` (channel handle, message id), by target;
    ``lock`` holds their rows, taken in id order. Two queries: the channels, then the posts by
    (channel, message id) pairs, the unique index's own columns."""
    wanted = set(targets)
    if not wanted:
        return {}
    handles = dict(
        session.execute(
            select(Channel.id, Channel.handle).where(Channel.handle.in_({h for h, _ in wanted}))
        ).all()
    )
    ids = {handle: channel_id for channel_id, handle in handles.items()}
    pairs = [(ids[handle], message_id) for handle, message_id in wanted if handle in ids]
    if not pairs:
        return {}
    query = (
        select(Post).where(tuple_(Post.channel_id, Post.message_id).in_(pairs)).order_by(Post.id)
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return {(handles[post.channel_id], post.message_id): post for post in session.scalars(query)}


def hashed_media(media: list[MediaIn]) -> tuple[list[MediaIn], dict[int, bytes]]:
    """Hash the files sent with a post (MD5, SHA-256 now; a corrupt image is refused here).
    Return the items without their bytes, and the images still to be PDQ-hashed by position:
    the background job does that, and the bytes go no further."""
    found = []
    pending: dict[int, bytes] = {}
    for index, item in enumerate(media):
        raw = item.raw()
        if raw is None:
            found.append(item)
            continue
        try:
            hashes = file_hashes(raw)
        except HashError as exc:
            raise InvalidInput(f"media[{index}].data: {exc}", field=f"media.{index}.data") from exc
        for name in ("sha256", "md5"):
            given = getattr(item, name)
            if given and given != getattr(hashes, name):
                raise InvalidInput(
                    f"media[{index}].{name} does not match the data sent with it",
                    field=f"media.{index}.{name}",
                )
        if hashes.image and not item.pdq:
            pending[index] = raw
        found.append(
            item.model_copy(update={"sha256": hashes.sha256, "md5": hashes.md5, "data": None})
        )
    return found, pending


def _to_hash(session: Session, post: Post, pending: dict[int, bytes]) -> list[Waiting]:
    """The images of the post waiting for their PDQ hash whose bytes came with this request
    (new ones, or ones whose bytes a restart lost)."""
    session.flush()
    return [
        Waiting(media_id=media.id, data=pending[media.position])
        for media in post.media
        if media.pdq_pending and media.position in pending
    ]


def _new_media(media: list[MediaIn], pending: dict[int, bytes]) -> list[PostMedia]:
    """The stored rows of a post's media; those whose bytes came wait for their PDQ hash (those
    hashed before ingest keep the quality of theirs)."""
    return [
        PostMedia(
            position=i,
            sha256=m.sha256,
            md5=m.md5,
            pdq=m.pdq,
            pdq_quality=m.pdq_quality if isinstance(m, HashedMediaIn) else None,
            url=m.url,
            pdq_pending=i in pending,
        )
        for i, m in enumerate(media)
    ]


def _media_rows(media: list[MediaIn]) -> list[tuple[str | None, ...]]:
    return [(m.sha256, m.md5, m.pdq, m.url) for m in media]


def ingest(
    *,
    session: Session,
    data: PostIn,
    keyring: Keyring,
    actor: str,
    inspector: PostInspector,
    owner_id: uuid.UUID | None = None,
) -> IngestResult:
    """Store a post, or update the stored copy when its owner sends it again (``owner_id``: the
    platform principal sending it; None for internal callers, which skip the owner check)."""
    media, pending = hashed_media(data.media)
    data = data.model_copy(update={"media": media})
    channel, _ = channels.ensure(session=session, handle=data.channel, actor=actor)
    author_ref = keyring.ref(str(data.author_id))
    stored = (
        select(Post)
        .where(Post.channel_id == channel.id, Post.message_id == data.message_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    post = session.execute(stored).scalar_one_or_none()
    # After the post's lock, as a batch takes them: posts, then links, then new rows.
    link_older_keys(session=session, keyring=keyring, author_ids=[str(data.author_id)])

    if post is None:
        post = Post(
            channel_id=channel.id,
            message_id=data.message_id,
            text=data.text,
            posted_at=data.posted_at,
            views=data.views,
            author_ref=author_ref,
            key_id=keyring.current.key_id,
            media=_new_media(data.media, pending),
            ingested_by_id=owner_id,
        )
        try:
            with session.begin_nested():
                session.add(post)
        except IntegrityError:
            # The same post arrived concurrently and was stored first: treat this as a resend.
            post = session.execute(stored).scalar_one()
            require_owner(post, owner_id)
            post.key_id = keyring.current.key_id  # with the current key's pseudonym, below
            return resend(
                session, post, channel.handle, data, author_ref, actor, inspector, pending
            )
        audit.record(
            session=session,
            actor=actor,
            action="post.ingested",
            subject_type="post",
            subject_id=post.id,
            data={
                "channel": channel.handle,
                "message_id": post.message_id,
                "media": len(data.media),
            },
        )
        inspection = inspector.inspect(session=session, post=post, created=True)
        return _result(
            post,
            channel.handle,
            created=True,
            to_hash=_to_hash(session, post, pending),
            queued=inspection.queued_actions,
        )

    require_owner(post, owner_id)
    post.key_id = keyring.current.key_id  # with the current key's pseudonym, below
    return resend(session, post, channel.handle, data, author_ref, actor, inspector, pending)


def check_owner(post: Post, owner_id: uuid.UUID | None) -> None:
    """Refuse a resend from a platform principal other than the post's owner."""
    if owner_id is not None and post.ingested_by_id not in (None, owner_id):
        raise Conflict(
            f"post {post.message_id} of this channel was sent by another platform principal",
            field="message_id",
        )


def require_owner(post: Post, owner_id: uuid.UUID | None) -> None:
    """Refuse a resend from a platform principal other than the post's owner; a post stored
    before owners were recorded goes to the first that sends it again."""
    check_owner(post, owner_id)
    if owner_id is not None and post.ingested_by_id is None:
        post.ingested_by_id = owner_id


def owned_by(post: Post, principal_id: uuid.UUID) -> bool:
    """Tell whether ``principal_id`` is the platform principal that sent ``post``."""
    return post.ingested_by_id is not None and post.ingested_by_id == principal_id


def resend(
    session: Session,
    post: Post,
    handle: str,
    data: PostIn,
    author_ref: str,
    actor: str,
    inspector: PostInspector,
    pending: dict[int, bytes],
) -> IngestResult:
    changed = _apply_changes(session, post, data, author_ref, pending)
    queued: tuple[uuid.UUID, ...] = ()
    if changed:
        session.flush()
        audit.record(
            session=session,
            actor=actor,
            action="post.updated",
            subject_type="post",
            subject_id=post.id,
            data={"changed": changed},
        )
        if {"text", "media"} & set(changed):
            queued = inspector.inspect(session=session, post=post, created=False).queued_actions
    return _result(
        post,
        handle,
        created=False,
        changed=changed,
        to_hash=_to_hash(session, post, pending),
        queued=queued,
    )


def _apply_changes(
    session: Session, post: Post, data: PostIn, author_ref: str, pending: dict[int, bytes]
) -> list[str]:
    changed: list[str] = []
    if post.text != data.text:
        post.text = data.text
        changed.append("text")
    if data.views is not None and post.views != data.views:
        post.views = data.views
        changed.append("views")
    if post.posted_at != data.posted_at:
        post.posted_at = data.posted_at
        changed.append("posted_at")
    if post.author_ref != author_ref:
        post.author_ref = author_ref
        changed.append("author")
    stored = [(m.sha256, m.md5, m.pdq, m.url) for m in post.media]
    incoming = _media_rows(data.media)
    for position, (sha256, md5, _, url) in enumerate(incoming):
        # An image sent again: its PDQ hash (computed in the background) is the stored one.
        if position in pending and position < len(stored):
            kept = stored[position]
            if (kept[0], kept[1], kept[3]) == (sha256, md5, url):
                incoming[position] = kept
    if stored != incoming:
        post.media.clear()
        session.flush()  # old rows go before new ones take their positions
        post.media.extend(_new_media(data.media, pending))
        changed.append("media")
    return changed


def channel_posts(
    *, session: Session, channel_id: int, before: int | None, limit: int
) -> list[Post]:
    """Return a channel's posts, newest first, below message id ``before`` when given."""
    query = select(Post).where(Post.channel_id == channel_id)
    if before is not None:
        query = query.where(Post.message_id < before)
    return list(session.execute(query.order_by(Post.message_id.desc()).limit(limit)).scalars())
