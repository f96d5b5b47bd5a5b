"""Retroactive scans: match the posts already stored against a bank, or against rules that were
added or changed, in resumable batches."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from tanggap.audit import service as audit
from tanggap.banks.models import Bank
from tanggap.db.base import insert_skipping_conflicts, utcnow
from tanggap.detection.engine.minhash import Signature
from tanggap.detection.engine.normalise import normalise
from tanggap.detection.engine.rules import Rule
from tanggap.detection.models import PostFingerprint, RuleVersion, ScanJob
from tanggap.detection.pipeline import QUEUED_ACTIONS, DetectionPipeline
from tanggap.errors import NotFound
from tanggap.posts.models import Post, PostMedia

BATCH = 200
ACTIVE = ("pending", "running")
RULES_ACTOR = "system:rules"
RULES_SETTLE = timedelta(seconds=60)


def _with_text() -> ColumnElement[bool]:
    return exists().where(PostFingerprint.post_id == Post.id)


def _scope(job: ScanJob) -> ColumnElement[bool]:
    """The posts a scan looks at: with media or text for a bank, with text for rules."""
    if job.bank_id is None:
        return _with_text()
    return or_(exists().where(PostMedia.post_id == Post.id), _with_text())


def _queue(session: Session, job: ScanJob) -> ScanJob:
    """Store the scan with its count of posts. A bank scan ends at the newest post now (later
    ones are matched on ingest); a rules scan has no such end (see ``RULES_SETTLE``)."""
    last = session.execute(select(func.max(Post.id))).scalar_one() or 0
    job.upto_post_id = last if job.bank_id is not None else None
    job.total = session.execute(
        select(func.count()).select_from(Post).where(_scope(job), Post.id <= last)
    ).scalar_one()
    session.add(job)
    session.flush()
    return job


def start(*, session: Session, bank: Bank, actor: str) -> ScanJob:
    """Queue a scan of every stored post with media or text against ``bank`` (or return the
    one queued)."""
    running = session.execute(
        select(ScanJob).where(ScanJob.bank_id == bank.id).where(ScanJob.state.in_(ACTIVE))
    ).scalar_one_or_none()
    if running is not None:
        return running
    job = _queue(session, ScanJob(bank_id=bank.id, state="pending", rule_ids=[]))
    audit.record(
        session=session,
        actor=actor,
        action="scan.queued",
        subject_type="bank",
        subject_id=bank.id,
        data={"scan_id": str(job.id), "posts": job.total},
    )
    return job


def rule_digest(rule: Rule) -> str:
    """Return a digest of everything a rule matches on and does."""
    return hashlib.sha256(rule.model_dump_json().encode()).hexdigest()


def sync_rules(*, session: Session, rules: list[Rule], actor: str) -> ScanJob | None:
    """Compare the rules in force with those last scanned for; queue one scan of the stored posts
    for the new and changed rules. Each version change is a conditional write, so of several
    processes noticing the same change only the one whose write lands queues the scan. The very
    first look records the rules without scanning: they were applied on ingest all along."""
    known = dict(session.execute(select(RuleVersion.rule_id, RuleVersion.digest)).all())
    current = {rule.id: rule_digest(rule) for rule in rules}
    first_look = not known
    claimed: list[str] = []
    for rule_id, digest in sorted(current.items()):
        if known.get(rule_id) == digest:
            continue
        if rule_id in known:
            moved = session.execute(
                update(RuleVersion)
                .where(RuleVersion.rule_id == rule_id, RuleVersion.digest == known[rule_id])
                .values(digest=digest, updated_at=utcnow())
            )
            won = moved.rowcount == 1  # type: ignore[attr-defined]
        else:
            won = _insert_version(session, rule_id, digest)
        if won:
            claimed.append(rule_id)
    gone = set(known) - set(current)
    if gone:
        session.execute(delete(RuleVersion).where(RuleVersion.rule_id.in_(gone)))
    if not claimed or first_look:
        return None
    # Every post stored so far, and those ingested in the next minute (signals are never recorded
    # twice): a post ingested under the old rules while this commits, or by a process that has
    # not reloaded its rule files yet, is not missed.
    job = _queue(session, ScanJob(bank_id=None, state="pending", rule_ids=claimed))
    if job.total == 0:
        job.state, job.finished_at = "done", utcnow()
    audit.record(
        session=session,
        actor=actor,
        action="scan.queued",
        subject_type="scan",
        subject_id=job.id,
        data={"scan_id": str(job.id), "rules": claimed, "posts": job.total},
    )
    return job


def _insert_version(session: Session, rule_id: str, digest: str) -> bool:
    """Record a new rule's digest unless another process just did; tell whether this one did."""
    done = session.execute(
        insert_skipping_conflicts(session, RuleVersion, "rule_id")
        .values(rule_id=rule_id, digest=digest, updated_at=utcnow())
        .returning(RuleVersion.rule_id)
    ).first()
    return done is not None


def rules_under_way(*, session: Session) -> ScanJob | None:
    """Return the oldest rules scan waiting or under way, if any."""
    return session.execute(
        select(ScanJob)
        .where(ScanJob.bank_id.is_(None))
        .where(ScanJob.state.in_(ACTIVE))
        .order_by(ScanJob.created_at)
        .limit(1)
    ).scalar_one_or_none()


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


def _signatures(session: Session, posts: list[Post]) -> dict[int, Signature]:
    rows = session.execute(
        select(PostFingerprint.post_id, PostFingerprint.minhash).where(
            PostFingerprint.post_id.in_([p.id for p in posts])
        )
    ).all()
    return {post_id: Signature.from_hex(value) for post_id, value in rows}


def _match(session: Session, pipeline: DetectionPipeline, job: ScanJob, posts: list[Post]) -> int:
    if job.bank_id is None:
        only = set(job.rule_ids)
        return sum(
            pipeline.apply_rules(
                session=session, post=post, normalised=normalise(post.text), only=only
            )
            for post in posts
        )
    texts = _signatures(session, posts)
    return sum(
        pipeline.match_banks(
            session=session, post=post, bank_id=job.bank_id, text=texts.get(post.id)
        )
        for post in posts
    )


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
        query = select(Post).where(Post.id > job.last_post_id).where(_scope(job))
        if job.upto_post_id is not None:
            query = query.where(Post.id <= job.upto_post_id)
        if job.bank_id is None:  # every process runs the new rules on ingest within a minute
            query = query.where(Post.ingested_at <= job.created_at + RULES_SETTLE)
        posts = list(session.execute(query.order_by(Post.id).limit(size)).scalars())
        matched = _match(session, pipeline, job, posts)
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
                subject_type=_subject(job),
                subject_id=job.bank_id or job.id,
                data={
                    "scan_id": str(job.id),
                    "scanned": job.scanned,
                    "matched": job.matched,
                    "rules": job.rule_ids,
                },
            )
        queued = list(session.info.pop(QUEUED_ACTIONS, []))
    return Batch(len(posts), matched, finished, queued)


def _subject(job: ScanJob) -> str:
    return "bank" if job.bank_id is not None else "scan"


def active(*, session: Session) -> list[uuid.UUID]:
    """Return the scans waiting or under way, oldest first."""
    return list(
        session.execute(
            select(ScanJob.id).where(ScanJob.state.in_(ACTIVE)).order_by(ScanJob.created_at)
        ).scalars()
    )
