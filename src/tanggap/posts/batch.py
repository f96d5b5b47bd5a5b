"""Batch ingest: many posts in the caller's transaction, the new ones screened by detection
together and written with multi-row inserts; a post sent again, or one detection acts on, goes
through ``posts.service.ingest`` on its own."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.channels import service as channels
from tanggap.db.base import insert_new_rows, table_of, utcnow
from tanggap.errors import TanggapError
from tanggap.posts.authors import link_older_keys
from tanggap.posts.inspection import PostInspector, Screening, Waiting
from tanggap.posts.models import Post, PostMedia
from tanggap.posts.schemas import HashedMediaIn, PostIn
from tanggap.posts.service import (
    IngestResult,
    check_owner,
    get_many,
    hashed_media,
    ingest,
    require_owner,
    resend,
)
from tanggap.pseudonyms import Keyring


def ingest_batch(
    *,
    session: Session,
    posts: Sequence[PostIn],
    keyring: Keyring,
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
    batch = _Batch(session, posts, keyring, actor, inspector, owner_id, each)
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
        keyring: Keyring,
        actor: str,
        inspector: PostInspector,
        owner_id: uuid.UUID | None,
        each: bool,
    ) -> None:
        self.session = session
        self.posts = posts
        self.keyring = keyring
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
                keyring=self.keyring,
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
                    check_owner(post, self.owner_id)
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
        # Channels, then links, then new rows: the order a single post's ingest takes them.
        link_older_keys(
            session=self.session,
            keyring=self.keyring,
            author_ids=[str(item.data.author_id) for item, _ in prepared],
        )
        new = []
        for item, post in prepared:
            if post is None:
                new.append(item)
            else:
                self.alone(item.index, partial(self.stored_again, post, item))
        if new:
            self.store_new(new, channel_ids)

    def stored_again(self, post: Post, item: _Prepared) -> IngestResult:
        require_owner(post, self.owner_id)
        author_ref = self.keyring.ref(str(item.data.author_id))
        post.key_id = self.keyring.current.key_id  # with the current key's pseudonym
        return resend(
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
                "author_ref": self.keyring.ref(str(item.data.author_id)),
                "key_id": self.keyring.current.key_id,
                "language": screening.language,
                "ingested_at": now,
                "ingested_by_id": self.owner_id,
                "updated_at": now,
            }
            for item, screening in quiet
        ]
        try:
            with self.session.begin_nested():
                ids = insert_new_rows(self.session, Post, rows)
        except IntegrityError:
            # Another transaction stored one of them meanwhile: each goes alone, as a resend.
            for item, _ in quiet:
                self.ingest_alone(item.index)
            return
        stored = [
            (post_id, item, screening)
            for post_id, (item, screening) in zip(ids, quiet, strict=True)
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
