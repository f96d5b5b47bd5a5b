"""PDQ hashes of the images sent with posts, computed in the background: decoding and hashing
an image costs ~50 ms, too much to hold a platform's request for. The bytes wait in
``media_hash_jobs`` and are deleted in the transaction that stores the hash and its matches."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tanggap.audit import service as audit
from tanggap.detection.engine.hashing import QUALITY_FLOOR, HashError, pdq_of
from tanggap.detection.models import MediaHashJob
from tanggap.detection.pipeline import QUEUED_ACTIONS, DetectionPipeline
from tanggap.posts.models import Post, PostMedia

log = structlog.get_logger(__name__)
BATCH = 16
MAX_ATTEMPTS = 3
ACTOR = "system:media"


@dataclass(frozen=True)
class Hashed:
    """What one image came to: its hash and quality, or why it could not be hashed."""

    pdq: str | None
    quality: int | None
    error: str | None


def waiting(*, session: Session, limit: int = BATCH) -> list[int]:
    """Return the oldest images waiting for their hash."""
    return list(
        session.execute(select(MediaHashJob.id).order_by(MediaHashJob.id).limit(limit)).scalars()
    )


def _claim(factory: sessionmaker[Session], job_id: int) -> bytes | None:
    """Count an attempt and return the bytes (None when another worker finished it)."""
    with factory() as session, session.begin():
        counted = session.execute(
            update(MediaHashJob)
            .where(MediaHashJob.id == job_id)
            .values(attempts=MediaHashJob.attempts + 1)
            .returning(MediaHashJob.data, MediaHashJob.attempts)
        ).one_or_none()
    if counted is None:
        return None
    data, attempts = counted
    if attempts > MAX_ATTEMPTS:  # it failed every time: give up on it, loudly
        return b""
    return bytes(data)


def _hash(data: bytes) -> Hashed:
    if not data:
        return Hashed(None, None, f"hashing failed {MAX_ATTEMPTS} times")
    try:
        pdq, quality = pdq_of(data)
    except HashError as exc:
        return Hashed(None, None, str(exc))
    return Hashed(pdq, quality, None)


def hash_one(
    *, factory: sessionmaker[Session], pipeline: DetectionPipeline, job_id: int
) -> list[uuid.UUID]:
    """Hash one waiting image outside any transaction, then in one transaction store the hash,
    drop the bytes and match the post's media against the banks. Return the actions queued."""
    data = _claim(factory, job_id)
    if data is None:
        return []
    found = _hash(data)  # the slow part, holding no lock
    with factory() as session, session.begin():
        job = session.execute(
            select(MediaHashJob).where(MediaHashJob.id == job_id).with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if job is None:
            return []  # finished by another worker meanwhile
        media = session.get(PostMedia, job.media_id)
        session.delete(job)
        if media is None:
            return []
        if found.error is not None:
            log.warning("media.unhashable", media_id=media.id, error=found.error)
            audit.record(
                session=session,
                actor=ACTOR,
                action="media.unhashable",
                subject_type="post",
                subject_id=media.post_id,
                data={"media": media.position, "error": found.error[:300]},
            )
            return []
        media.pdq_quality = found.quality
        if found.quality is not None and found.quality >= QUALITY_FLOOR:
            media.pdq = found.pdq  # below PDQ's quality floor a hash matches too much
        session.flush()
        post = session.get(Post, media.post_id)
        if post is not None and media.pdq is not None:
            pipeline.match_banks(session=session, post=post)
        return list(session.info.pop(QUEUED_ACTIONS, []))
