"""Running retroactive scans: one batch of stored posts at a time through the detection
pipeline, its matches and the scan's cursor committed together."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from tanggap.detection import scans
from tanggap.detection.models import ScanJob
from tanggap.detectors.normalise import normalise
from tanggap.posts.models import Post
from tanggap.screening.pipeline import DetectionPipeline, Matched


@dataclass
class Batch:
    """What one batch did, and the actions its matches queued (delivered after the commit)."""

    scanned: int
    matched: int
    finished: bool
    actions: list[uuid.UUID]


def _match(
    session: Session, pipeline: DetectionPipeline, job: ScanJob, posts: list[Post]
) -> list[Matched]:
    if job.bank_id is None:
        only = set(job.rule_ids)
        return [
            pipeline.apply_rules(
                session=session, post=post, normalised=normalise(post.text), only=only
            )
            for post in posts
        ]
    texts = scans.signatures(session=session, posts=posts)
    return [
        pipeline.match_banks(
            session=session, post=post, bank_id=job.bank_id, text=texts.get(post.id)
        )
        for post in posts
    ]


def run_batch(
    *,
    factory: sessionmaker[Session],
    pipeline: DetectionPipeline,
    scan_id: uuid.UUID,
    size: int = scans.BATCH,
    wait: bool = True,
) -> Batch:
    """Scan the next batch of posts in one transaction: matches and cursor commit together, so a
    crash resumes after the last committed batch and nothing is matched twice. The batch is
    claimed under the scan's row lock; without ``wait``, while another process runs a batch of
    the same scan, this one does nothing (``scanned`` 0) instead of waiting for its turn."""
    with factory() as session, session.begin():
        job = scans.lock_active(session=session, scan_id=scan_id, wait=wait)
        if job is None:  # done, or (not waiting) in another process's hands for now
            return Batch(0, 0, finished=wait, actions=[])
        posts = scans.next_posts(session=session, job=job, size=size)
        found = _match(session, pipeline, job, posts)
        matched = sum(m.new for m in found)
        finished = scans.advance(session=session, job=job, posts=posts, matched=matched, size=size)
    return Batch(len(posts), matched, finished, [a for m in found for a in m.actions])
