"""Ingest public posts: store them once, pseudonymise authors, hand them to detection."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from sqlalchemy import insert, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.channels import service as channels
from tanggap.channels.models import Channel
from tanggap.db.base import table_of, utcnow
from tanggap.detectors.hashing import HashError, file_hashes
from tanggap.errors import Conflict, InvalidInput, TanggapError
from tanggap.posts.inspection import PostInspector, Screening, Waiting
from tanggap.posts.models import Post, PostMedia
from tanggap.posts.schemas import HashedMediaIn, MediaIn, PostIn
from tanggap.pseudonyms import user_ref


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
    secret_key: str,
    actor: str,
    inspector: PostInspector,
    owner_id: uuid.UUID | None = None,
) -> IngestResult:
    """Store a post, or update the stored copy when its owner sends it again (``owner_id``: the
    platform principal sending it; None for internal callers, which skip the owner check)."""
    media, pending = hashed_media(data.media)
    data = data.model_copy(update={"media": media})
    channel, _ = channels.ensure(session=session, handle=data.channel, actor=actor)
    author_ref = user_ref(secret_key=secret_key, platform_user_id=str(data.author_id))
    stored = (
        select(Post)
        .where(Post.channel_id == channel.id, Post.message_id == data.message_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    post = session.execute(stored).scalar_one_or_none()

    if post is None:
        post = Post(
            channel_id=channel.id,
            message_id=data.message_id,
            text=data.text,
            posted_at=data.posted_at,
            views=data.views,
            author_ref=author_ref,
            media=_new_media(data.media, pending),
            ingested_by_id=owner_id,
        )
        try:
            with session.begin_nested():
                session.add(post)
        except IntegrityError:
            # The same post arrived concurrently and was stored first: treat this as a resend.
            post = session.execute(stored).scalar_one()
            _require_owner(post, owner_id)
            return _resend(
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

    _require_owner(post, owner_id)
    return _resend(session, post, channel.handle, data, author_ref, actor, inspector, pending)


def _check_owner(post: Post, owner_id: uuid.UUID | None) -> None:
    """Refuse a resend from a platform principal other than the post's owner."""
    if owner_id is not None and post.ingested_by_id not in (None, owner_id):
        raise Conflict(
            f"post {post.message_id} of this channel was sent by another platform principal",
            field="message_id",
        )


def _require_owner(post: Post, owner_id: uuid.UUID | None) -> None:
    """Refuse a resend from a platform principal other than the post's owner; a post stored
    before owners were recorded goes to the first that sends it again."""
    _check_owner(post, owner_id)
    if owner_id is not None and post.ingested_by_id is None:
        post.ingested_by_id = owner_id


def owned_by(post: Post, principal_id: uuid.UUID) -> bool:
    """Tell whether ``principal_id`` is the platform principal that sent ``post``."""
    return post.ingested_by_id is not None and post.ingested_by_id == principal_id


def ingest_batch(
    *,
    session: Session,
    posts: Sequence[PostIn],
    secret_key: str,
    actor: str,
    inspector: PostInspector,
    owner_id: uuid.UUID | None = None,
    each: bool = False,
) -> list[IngestResult | TanggapError]:
    """Store many posts in the caller's transaction. New posts are screened by detection as a
    batch and written in bulk (a few statements for the whole batch); a post detection may act
    on, and a post sent again, goes through ``ingest`` on its own. The same post twice in a
    batch is a resend of itself.

    ``each=False``: all or none — the first post that cannot be stored raises, its error naming
    ``posts.N``, and the caller rolls the batch back. ``each=True``: a post the service refuses
    is rolled back alone (a savepoint), its error standing in its place in the answer."""
    batch = _Batch(session, posts, secret_key, actor, inspector, owner_id, each)
    for occurrence in _occurrences(posts):
        batch.store(occurrence)
    return batch.outcomes()


def _occurrences(posts: Sequence[PostIn]) -> list[list[int]]:
    """The positions of the posts in rounds: the first time each post comes, the second…"""
    seen: dict[tuple[str, int], int] = {}
    rounds: list[list[int]] = []
    for index, data in enumerate(posts):
        key = (data.channel, data.message_id)
        turn = seen.get(key, 0)
        seen[key] = turn + 1
        if turn == len(rounds):
            rounds.append([])
        rounds[turn].append(index)
    return rounds


@dataclass
class _Prepared:
    """A post of the batch with its media hashed, and its images still to PDQ-hash."""

    index: int
    data: PostIn
    pending: dict[int, bytes]


class _Batch:
    """One ``ingest_batch`` call: the posts, where each stands, and how refusals are handled."""

    def __init__(
        self,
        session: Session,
        posts: Sequence[PostIn],
        secret_key: str,
        actor: str,
        inspector: PostInspector,
        owner_id: uuid.UUID | None,
        each: bool,
    ) -> None:
        self.session = session
        self.posts = posts
        self.secret_key = secret_key
        self.actor = actor
        self.inspector = inspector
        self.owner_id = owner_id
        self.each = each
        self.done: dict[int, IngestResult | TanggapError] = {}

    def outcomes(self) -> list[IngestResult | TanggapError]:
        return [self.done[index] for index in range(len(self.posts))]

    def refuse(self, index: int, error: TanggapError) -> None:
        if not self.each:
            field = f"posts.{index}.{error.field}" if error.field else f"posts.{index}"
            raise type(error)(f"posts[{index}]: {error.message}", field=field) from error
        self.done[index] = error

    def alone(self, index: int, step: Callable[[], IngestResult]) -> None:
        """Store one post by ``step``; with ``each``, in a savepoint of its own."""
        try:
            if self.each:
                with self.session.begin_nested():
                    self.done[index] = step()
            else:
                self.done[index] = step()
        except TanggapError as exc:
            self.refuse(index, exc)

    def ingest_alone(self, index: int) -> None:
        self.alone(
            index,
            lambda: ingest(
                session=self.session,
                data=self.posts[index],
                secret_key=self.secret_key,
                actor=self.actor,
                inspector=self.inspector,
                owner_id=self.owner_id,
            ),
        )

    def store(self, indices: list[int]) -> None:
        """Store posts that each come once: resends one by one, new ones in bulk. Every check
        that can refuse a post runs first, in the batch's order, before anything is written."""
        stored = get_many(
            session=self.session,
            targets=[(self.posts[i].channel, self.posts[i].message_id) for i in indices],
            lock=True,
        )
        prepared: list[tuple[_Prepared, Post | None]] = []
        for index in indices:
            data = self.posts[index]
            post = stored.get((data.channel, data.message_id))
            try:
                media, pending = hashed_media(data.media)
                if post is not None:
                    _check_owner(post, self.owner_id)
            except TanggapError as exc:
                self.refuse(index, exc)
                continue
            item = _Prepared(index, data.model_copy(update={"media": media}), pending)
            prepared.append((item, post))
        if not prepared:
            return
        channel_ids = channels.ensure_many(
            session=self.session,
            handles={item.data.channel for item, _ in prepared},
            actor=self.actor,
        )
        new = []
        for item, post in prepared:
            if post is None:
                new.append(item)
            else:
                self.alone(item.index, partial(self.resend, post, item))
        if new:
            self.store_new(new, channel_ids)

    def resend(self, post: Post, item: _Prepared) -> IngestResult:
        _require_owner(post, self.owner_id)
        author_ref = user_ref(secret_key=self.secret_key, platform_user_id=str(item.data.author_id))
        return _resend(
            self.session,
            post,
            item.data.channel,
            item.data,
            author_ref,
            self.actor,
            self.inspector,
            item.pending,
        )

    def store_new(self, new: list[_Prepared], channel_ids: dict[str, int]) -> None:
        """Screen new posts; write those detection does not act on in bulk, the others alone."""
        screenings = self.inspector.screen(session=self.session, posts=[p.data for p in new])
        quiet = []
        for item, screening in zip(new, screenings, strict=True):
            if screening.acts:
                self.ingest_alone(item.index)  # the exact way, hashing its images again
            else:
                quiet.append((item, screening))
        if quiet:
            self.write(quiet, channel_ids)

    def write(self, quiet: list[tuple[_Prepared, Screening]], channel_ids: dict[str, int]) -> None:
        """Insert new posts, their media, audit events and detection's findings in bulk; the
        posts in (channel, message id) order, so two batches inserting some of the same posts
        take their index entries in one order and never wait on each other in a circle."""
        quiet = sorted(
            quiet, key=lambda pair: (channel_ids[pair[0].data.channel], pair[0].data.message_id)
        )
        now = utcnow()
        rows = [
            {
                "channel_id": channel_ids[item.data.channel],
                "message_id": item.data.message_id,
                "text": item.data.text,
                "posted_at": item.data.posted_at,
                "views": item.data.views,
                "author_ref": user_ref(
                    secret_key=self.secret_key, platform_user_id=str(item.data.author_id)
                ),
                "language": screening.language,
                "ingested_at": now,
                "ingested_by_id": self.owner_id,
                "updated_at": now,
            }
            for item, screening in quiet
        ]
        table = table_of(Post)
        try:
            with self.session.begin_nested():
                inserted = self.session.execute(
                    insert(table).returning(
                        table.c.id,
                        table.c.channel_id,
                        table.c.message_id,
                    ),
                    rows,
                ).all()
        except IntegrityError:
            # Another transaction stored one of them meanwhile: each goes alone, as a resend.
            for item, _ in quiet:
                self.ingest_alone(item.index)
            return
        ids = {(channel_id, message_id): post_id for post_id, channel_id, message_id in inserted}
        stored = [
            (ids[channel_ids[item.data.channel], item.data.message_id], item, screening)
            for item, screening in quiet
        ]
        waiting = self.write_media(stored)
        audit.record_many(
            session=self.session,
            actor=self.actor,
            action="post.ingested",
            subject_type="post",
            events=[
                (
                    post_id,
                    {
                        "channel": item.data.channel,
                        "message_id": item.data.message_id,
                        "media": len(item.data.media),
                    },
                )
                for post_id, item, _ in stored
            ],
        )
        acted = self.inspector.record(
            session=self.session,
            stored=[(post_id, screening) for post_id, _, screening in stored],
        )
        for post_id, item, screening in stored:
            data = item.data
            self.done[item.index] = IngestResult(
                post_id=post_id,
                channel=data.channel,
                message_id=data.message_id,
                posted_at=data.posted_at,
                views=data.views,
                language=screening.language,
                media_count=len(data.media),
                created=True,
                to_hash=waiting.get(post_id, []),
                queued_actions=acted.get(post_id, ()),
            )

    def write_media(
        self, stored: list[tuple[int, _Prepared, Screening]]
    ) -> dict[int, list[Waiting]]:
        """Insert the media rows of new posts; return the images waiting for their PDQ hash,
        by post id."""
        rows = [
            {
                "post_id": post_id,
                "position": position,
                "sha256": media.sha256,
                "md5": media.md5,
                "pdq": media.pdq,
                "pdq_quality": media.pdq_quality if isinstance(media, HashedMediaIn) else None,
                "url": media.url,
                "pdq_pending": position in item.pending,
            }
            for post_id, item, _ in stored
            for position, media in enumerate(item.data.media)
        ]
        if not rows:
            return {}
        self.session.execute(insert(table_of(PostMedia)), rows)
        pending = {post_id: item.pending for post_id, item, _ in stored if item.pending}
        if not pending:
            return {}
        waiting: dict[int, list[Waiting]] = {}
        for media_id, post_id, position in self.session.execute(
            select(PostMedia.id, PostMedia.post_id, PostMedia.position)
            .where(PostMedia.post_id.in_(pending), PostMedia.pdq_pending.is_(True))
            .order_by(PostMedia.id)
        ):
            if position in pending[post_id]:
                waiting.setdefault(post_id, []).append(
                    Waiting(media_id=media_id, data=pending[post_id][position])
                )
        return waiting


def _resend(
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
