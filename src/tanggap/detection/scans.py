"""Retroactive scans: the record of a scan of the posts already stored (against a bank, or
against rules that were added or changed), its cursor and its batches of posts. The matching
itself is the detection pipeline's (``screening.scans``)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

from sqlalchemy import ColumnElement, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.db.base import insert_skipping_conflicts, rowcount, utcnow
from tanggap.db.wake import SCANS, wake
from tanggap.detection.models import PostFingerprint, RuleVersion, ScanJob, ScanState
from tanggap.detectors.minhash import Signature
from tanggap.detectors.rules import Rule
from tanggap.errors import NotFound
from tanggap.posts.models import Post, PostMedia

BATCH = 200
ACTIVE = (ScanState.PENDING, ScanState.RUNNING)
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
    wake(session, SCANS)
    return job


def start(*, session: Session, bank_id: uuid.UUID, actor: str) -> ScanJob:
    """Queue a scan of every stored post with media or text against a bank (or return the one
    queued)."""
    running = session.execute(
        select(ScanJob).where(ScanJob.bank_id == bank_id).where(ScanJob.state.in_(ACTIVE))
    ).scalar_one_or_none()
    if running is not None:
        return running
    job = _queue(session, ScanJob(bank_id=bank_id, state=ScanState.PENDING, rule_ids=[]))
    audit.record(
        session=session,
        actor=actor,
        action="scan.queued",
        subject_type="bank",
        subject_id=bank_id,
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
            won = rowcount(moved) == 1
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
    job = _queue(session, ScanJob(bank_id=None, state=ScanState.PENDING, rule_ids=claimed))
    if job.total == 0:
        job.state, job.finished_at = ScanState.DONE, utcnow()
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


def lock_active(*, session: Session, scan_id: uuid.UUID, wait: bool = True) -> ScanJob | None:
    """Return the scan, locked, when it still has posts to go through; it is now running.
    Without ``wait``, a scan another process holds (running a batch) is skipped: None."""
    job = session.execute(
        select(ScanJob)
        .where(ScanJob.id == scan_id)
        .with_for_update(skip_locked=not wait)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if job is None or job.state not in ACTIVE:
        return None
    job.state = ScanState.RUNNING
    return job


def next_posts(*, session: Session, job: ScanJob, size: int) -> list[Post]:
    """Return the next ``size`` posts the scan has not looked at, by id."""
    query = select(Post).where(Post.id > job.last_post_id).where(_scope(job))
    if job.upto_post_id is not None:
        query = query.where(Post.id <= job.upto_post_id)
    if job.bank_id is None:  # every process runs the new rules on ingest within a minute
        query = query.where(Post.ingested_at <= job.created_at + RULES_SETTLE)
    return list(session.execute(query.order_by(Post.id).limit(size)).scalars())


def signatures(*, session: Session, posts: list[Post]) -> dict[int, Signature]:
    """Return the stored text signatures of ``posts`` (those with text), by post id."""
    rows = session.execute(
        select(PostFingerprint.post_id, PostFingerprint.minhash).where(
            PostFingerprint.post_id.in_([p.id for p in posts])
        )
    ).all()
    return {post_id: Signature.from_hex(value) for post_id, value in rows}


def advance(*, session: Session, job: ScanJob, posts: list[Post], matched: int, size: int) -> bool:
    """Move the scan's cursor past ``posts`` (in the transaction that recorded their matches,
    so a crash resumes after the last committed batch); finish it after a short batch. Return
    whether it finished."""
    job.scanned += len(posts)
    job.matched += matched
    if posts:
        job.last_post_id = posts[-1].id
    if len(posts) >= size:
        return False
    job.state = ScanState.DONE
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
    return True


def _subject(job: ScanJob) -> str:
    return "bank" if job.bank_id is not None else "scan"


def active(*, session: Session) -> list[uuid.UUID]:
    """Return the scans waiting or under way, oldest first."""
    return list(
        session.execute(
            select(ScanJob.id).where(ScanJob.state.in_(ACTIVE)).order_by(ScanJob.created_at)
        ).scalars()
    )
