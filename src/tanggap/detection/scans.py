"""Retroactive scans: match the posts already stored against a bank, in resumable batches."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Exists, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from tanggap.audit import service as audit
from tanggap.banks.models import Bank
from tanggap.db.base import utcnow
from tanggap.detection.models import ScanJob
from tanggap.detection.pipeline import QUEUED_ACTIONS, DetectionPipeline
from tanggap.errors import NotFound
from tanggap.posts.models import Post, PostMedia

BATCH = 200
ACTIVE = ("pending", "running")


def _with_media() -> Exists:
    return exists().where(PostMedia.post_id == Post.id)


def start(*, session: Session, bank: Bank, actor: str) -> ScanJob:
    """Queue a scan of every stored post with media against ``bank`` (or return the one queued)."""
    running = session.execute(
        select(ScanJob).where(ScanJob.bank_id == bank.id).where(ScanJob.state.in_(ACTIVE))
    ).scalar_one_or_none()
    if running is not None:
        return running
    total = session.execute(
        select(func.count()).select_from(Post).where(_with_media())
    ).scalar_one()
    job = ScanJob(bank_id=bank.id, state="pending", total=int(total))
    session.add(job)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="scan.queued",
        subject_type="bank",
        subject_id=bank.id,
        data={"scan_id": str(job.id), "posts": job.total},
    )
    return job


def get(*, session: Session, scan_id: uuid.UUID) -> ScanJob:
    """Return one scan or raise NotFound."""
    job = session.get(ScanJob, scan_id)
    if job is None:
        raise NotFound(f"no scan {scan_id}", field="scan_id")
    return job


@dataclass
class Batch:
    """What one batch did."""

    scanned: int
    matched: int
    finished: bool
    actions: list[uuid.UUID]


def run_batch(
    *,
    factory: sessionmaker[Session],
    pipeline: DetectionPipeline,
    scan_id: uuid.UUID,
    size: int = BATCH,
) -> Batch:
    """Scan the next batch of posts in one transaction: matches and cursor commit together, so a
    crash resumes after the last committed batch and nothing is matched twice."""
    with factory() as session, session.begin():
        job = session.execute(
            select(ScanJob)
            .where(ScanJob.id == scan_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if job is None or job.state not in ACTIVE:
            return Batch(0, 0, True, [])
        job.state = "running"
        posts = list(
            session.execute(
                select(Post)
                .where(Post.id > job.last_post_id)
                .where(_with_media())
                .order_by(Post.id)
                .limit(size)
            ).scalars()
        )
        matched = sum(
            pipeline.match_banks(session=session, post=post, bank_id=job.bank_id) for post in posts
        )
        job.scanned += len(posts)
        job.matched += matched
        if posts:
            job.last_post_id = posts[-1].id
        finished = len(posts) < size
        if finished:
            job.state = "done"
            job.finished_at = utcnow()
            audit.record(
                session=session,
                actor="system:scan",
                action="scan.finished",
                subject_type="bank",
                subject_id=job.bank_id,
                data={"scan_id": str(job.id), "scanned": job.scanned, "matched": job.matched},
            )
        queued = list(session.info.pop(QUEUED_ACTIONS, []))
    return Batch(len(posts), matched, finished, queued)


def active(*, session: Session) -> list[uuid.UUID]:
    """Return the scans waiting or under way, oldest first."""
    return list(
        session.execute(
            select(ScanJob.id).where(ScanJob.state.in_(ACTIVE)).order_by(ScanJob.created_at)
        ).scalars()
    )
