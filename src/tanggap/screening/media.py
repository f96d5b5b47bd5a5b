"""PDQ hashes of the images sent with posts, computed in the background: decoding and hashing
an image costs ~50 ms, too much to hold a platform's request for.

The bytes wait in this process's memory only, never in the database: what platforms send may be
child sexual abuse material, and a copy in a table would live on in its write-ahead log, replicas
and backups. A stored ``PostMedia.pdq_pending`` tells which images still wait; after a crash the
bytes are gone and the platform's next resend of the post (with its ``data``) queues them again.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Callable

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tanggap.audit import service as audit
from tanggap.detectors.hashing import QUALITY_FLOOR, HashError, pdq_of
from tanggap.posts.inspection import Waiting
from tanggap.posts.models import Post, PostMedia
from tanggap.screening.pipeline import DetectionPipeline

log = structlog.get_logger(__name__)
ACTOR = "system:media"
MAX_WAITING_BYTES = 512 * 1024 * 1024


class MediaHasher:
    """A process's queue of images to hash; ``run_once`` drains it (the background job, or a
    test, calls it) and hands the actions a match queued to ``deliver`` once committed."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        pipeline: DetectionPipeline,
        deliver: Callable[[list[uuid.UUID]], object],
        max_bytes: int = MAX_WAITING_BYTES,
    ) -> None:
        self.factory = factory
        self.pipeline = pipeline
        self.deliver = deliver
        self.max_bytes = max_bytes
        self._queue: deque[Waiting] = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        # Called after images are queued (the media job's wake-up), when a job runs them.
        self.on_submit: Callable[[], object] | None = None

    @property
    def waiting_bytes(self) -> int:
        """How many bytes wait to be hashed."""
        return self._bytes

    def has_room(self, incoming: int) -> bool:
        """Tell whether ``incoming`` more bytes fit (else the platform is asked to retry)."""
        return self._bytes + incoming <= self.max_bytes

    def submit(self, items: list[Waiting]) -> None:
        """Queue committed media rows for hashing."""
        with self._lock:
            self._queue.extend(items)
            self._bytes += sum(len(item.data) for item in items)
        if self.on_submit is not None:
            self.on_submit()

    def _next(self) -> Waiting | None:
        with self._lock:
            if not self._queue:
                return None
            item = self._queue.popleft()
            self._bytes -= len(item.data)
            return item

    def run_once(self) -> int:
        """Hash every image queued now; return how many."""
        done = 0
        while (item := self._next()) is not None:
            actions = self.hash_one(item)
            if actions:
                self.deliver(actions)
            done += 1
        return done

    def hash_one(self, item: Waiting) -> list[uuid.UUID]:
        """Hash one image holding no transaction, then in one transaction store the hash and
        match the post's media against the banks. Return the actions queued."""
        try:
            pdq, quality = pdq_of(item.data)
            error = None
        except HashError as exc:
            pdq, quality, error = None, None, str(exc)
        with self.factory() as session, session.begin():
            media = session.execute(
                select(PostMedia)
                .where(PostMedia.id == item.media_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).scalar_one_or_none()
            if media is None or not media.pdq_pending:
                return []  # replaced by a resend, or hashed already
            media.pdq_pending = False
            if error is not None:
                log.warning("media.unhashable", media_id=media.id, error=error)
                audit.record(
                    session=session,
                    actor=ACTOR,
                    action="media.unhashable",
                    subject_type="post",
                    subject_id=media.post_id,
                    data={"media": media.position, "error": error[:300]},
                )
                return []
            media.pdq_quality = quality
            if quality is not None and quality >= QUALITY_FLOOR:
                media.pdq = pdq  # below PDQ's quality floor a hash matches too much
            session.flush()
            post = session.get(Post, media.post_id)
            if post is None or media.pdq is None:
                return []
            return self.pipeline.match_banks(session=session, post=post).actions
