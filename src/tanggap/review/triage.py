"""Triage: route a case to the queue of those who read its language and score its priority
from its reports, its post's reach and detection's signals; the case's reports become triaged."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tanggap.audit import service as audit
from tanggap.cases import priority, routing, states
from tanggap.cases import service as cases
from tanggap.cases.models import Case
from tanggap.channels.models import Channel
from tanggap.db.base import utcnow
from tanggap.detection import service as detection
from tanggap.errors import RoundCutShort
from tanggap.notify.port import Notifier
from tanggap.policy.schemas import Policy
from tanggap.policy.service import find_category
from tanggap.posts.models import Post
from tanggap.reports import service as reports
from tanggap.reports.models import Report, ReportStatus
from tanggap.reports.schemas import OPEN_STATUSES
from tanggap.reviewers import service as reviewers

log = structlog.get_logger(__name__)
ACTOR = "system:triage"
# Cases a round: a backlog drains at the speed of the chunks, not of the job's interval.
BATCH = 1000
# Cases a transaction: the reads and writes of a chunk go together, its locks held no longer
# than a few dozen cases take.
CHUNK = 50


@dataclass(frozen=True)
class Known:
    """What triage reads for a batch of cases, in a few queries however many cases: their posts
    and channels, their open reports (locked: triage changes the status of those still
    received, listed apart in the order they came), and each post's strongest signal."""

    posts: dict[int, Post]
    channels: dict[int, Channel]
    open_reports: dict[uuid.UUID, list[Report]]
    received: list[Report]
    signals: dict[int, float]


def read_known(*, session: Session, claimed: Sequence[Case]) -> Known:
    """Read what triage weighs for the ``claimed`` cases."""
    if not claimed:
        return Known(posts={}, channels={}, open_reports={}, received=[], signals={})
    posts = {
        post.id: post
        for post in session.scalars(select(Post).where(Post.id.in_({c.post_id for c in claimed})))
    }
    channel_ids = {post.channel_id for post in posts.values()}
    channels = {
        channel.id: channel
        for channel in session.scalars(select(Channel).where(Channel.id.in_(channel_ids)))
    }
    open_reports: dict[uuid.UUID, list[Report]] = {case.id: [] for case in claimed}
    received = []
    for report in session.scalars(
        select(Report)
        .where(Report.case_id.in_(open_reports))
        .where(Report.status.in_(OPEN_STATUSES))
        .order_by(Report.received_at, Report.id)
        .with_for_update()
    ):
        open_reports[report.case_id].append(report)
        if report.status == ReportStatus.RECEIVED:
            received.append(report)
    signals = detection.strongest(session=session, post_ids=posts)
    return Known(
        posts=posts,
        channels=channels,
        open_reports=open_reports,
        received=received,
        signals=signals,
    )


def inputs_of(*, case: Case, known: Known, policy: Policy) -> priority.TriageInputs:
    """Gather what triage weighs for ``case``: its reports, category, post and channel."""
    post = known.posts[case.post_id]
    channel = known.channels.get(post.channel_id)
    open_reports = known.open_reports[case.id]
    category = find_category(policy, case.category)
    clock_reports = [r for r in open_reports if r.deadline == case.deadline]
    return priority.TriageInputs(
        clock_started_at=min((r.received_at for r in clock_reports), default=case.opened_at),
        deadline=case.deadline,
        severity=category.severity if category else 1,
        subscribers=channel.subscribers if channel else None,
        views=post.views,
        source=_strongest_source(open_reports),
        report_count=max(case.report_count, len(open_reports)),
        signal_score=known.signals.get(post.id, 0.0),
    )


def _strongest_source(open_reports: list[Report]) -> priority.PrioritySource:
    return priority.strongest_source((r.source, r.order_type) for r in open_reports)


def triage_cases(
    *,
    session: Session,
    claimed: Sequence[Case],
    policy: Policy,
    languages_read: Collection[str],
    notifier: Notifier,
    now: datetime | None = None,
) -> None:
    """Queue and score the ``claimed`` cases (locked by the caller), then tell their new
    reporters they are triaged: the reads, the writes and the notices of the whole batch
    together, with its audit events appended in one statement."""
    now = now or utcnow()
    with audit.batched(session):
        open_cases = [case for case in claimed if case.state in states.OPEN_STATES]
        known = read_known(session=session, claimed=open_cases)
        for case in claimed:
            case.triage_due = False
        for case in open_cases:
            scored = priority.prioritise(
                inputs_of(case=case, known=known, policy=policy), policy.triage
            )
            queue = routing.queue_for(
                language=case.language, category=case.category, languages_read=languages_read
            )
            cases.record_triage(
                session=session, case=case, scored=scored, queue=queue, now=now, actor=ACTOR
            )
        if not known.received:
            return
        reports.set_statuses(
            session=session,
            reports=known.received,
            status=ReportStatus.TRIAGED,
            actor=ACTOR,
            notifier=notifier,
        )


def claim_due(*, session: Session, limit: int) -> list[Case]:
    """Lock up to ``limit`` cases waiting for triage, nearest deadline first, skipping those
    another process holds (``SKIP LOCKED``): still waiting once locked, so two processes never
    claim the same case."""
    return list(
        session.scalars(
            select(Case)
            .where(Case.triage_due.is_(True))
            .order_by(Case.deadline, Case.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def oldest_waiting(*, session: Session) -> datetime | None:
    """Return since when the case that has waited longest for triage has waited: its oldest
    report not yet triaged, or, for a case reopened without a new report (an appeal), the last
    change of the case."""
    by_report = session.execute(
        select(func.min(Report.received_at))
        .join(Case, Case.id == Report.case_id)
        .where(Case.triage_due.is_(True), Report.status == ReportStatus.RECEIVED)
    ).scalar_one()
    by_case = session.execute(
        select(func.min(Case.updated_at)).where(Case.triage_due.is_(True))
    ).scalar_one()
    found = [at for at in (by_report, by_case) if at is not None]
    return min(found) if found else None


def triage_due(
    *,
    factory: sessionmaker[Session],
    policy: Policy,
    notifier: Notifier,
    limit: int = BATCH,
    chunk: int = CHUNK,
) -> int:
    """Triage the cases waiting for it, ``chunk`` cases a transaction; return how many were
    triaged. The cases are claimed under their locks, still waiting for triage, so processes
    running this at the same moment share them out and never triage one twice. When a chunk
    fails, the round goes on one case a transaction, so that the cases before the one that
    fails are triaged and the round stops at it."""
    with factory() as session:
        languages = reviewers.languages_read(session=session)
    done = 0
    while done < limit:
        try:
            with factory() as session, session.begin():
                claimed = claim_due(session=session, limit=min(chunk, limit - done))
                if not claimed:
                    break
                triage_cases(
                    session=session,
                    claimed=claimed,
                    policy=policy,
                    languages_read=languages,
                    notifier=notifier,
                )
        except Exception as error:
            if chunk > 1:
                # Find the case that fails: one at a time from here. Logged, since a chunk that
                # keeps failing while single cases pass would make every round slow and quiet.
                log.warning(
                    "triage.chunk_failed",
                    chunk=chunk,
                    error=f"{type(error).__name__}: {error}",
                )
                chunk = 1
                continue
            if done:
                raise RoundCutShort(done) from error  # what is committed stays counted
            raise
        done += len(claimed)
    return done
