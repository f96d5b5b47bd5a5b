"""Triage: route a case to the queue of those who read its language and score its priority
from its reports, its post's reach and detection's signals; the case's reports become triaged."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

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

ACTOR = "system:triage"
BATCH = 200


def inputs_of(*, session: Session, case: Case, policy: Policy) -> priority.TriageInputs:
    """Gather what triage weighs for ``case``: its reports, category, post and channel."""
    post = session.get(Post, case.post_id)
    assert post is not None
    channel = session.get(Channel, post.channel_id)
    open_reports = list(
        session.execute(
            select(Report).where(Report.case_id == case.id).where(Report.status.in_(OPEN_STATUSES))
        ).scalars()
    )
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
        signal_score=detection.strongest(session=session, post_id=post.id),
    )


def _strongest_source(open_reports: list[Report]) -> priority.PrioritySource:
    return priority.strongest_source((r.source, r.order_type) for r in open_reports)


def triage_case(
    *,
    session: Session,
    case_id: uuid.UUID,
    policy: Policy,
    languages_read: Collection[str],
    notifier: Notifier,
    now: datetime | None = None,
) -> Case:
    """Queue and score one case, then tell its new reporters it is triaged."""
    case = cases.lock(session=session, case_id=case_id)
    case.triage_due = False
    if case.state not in states.OPEN_STATES:
        session.flush()
        return case
    scored = priority.prioritise(
        inputs_of(session=session, case=case, policy=policy), policy.triage
    )
    queue = routing.queue_for(
        language=case.language, category=case.category, languages_read=languages_read
    )
    cases.record_triage(
        session=session, case=case, scored=scored, queue=queue, now=now or utcnow(), actor=ACTOR
    )
    for report in reports.reports_of_case(
        session=session, case_id=case.id, statuses=(ReportStatus.RECEIVED,)
    ):
        reports.set_status(
            session=session,
            report=report,
            status=ReportStatus.TRIAGED,
            actor=ACTOR,
            notifier=notifier,
        )
    return case


def claim_due(*, session: Session) -> uuid.UUID | None:
    """Lock the next case waiting for triage, nearest deadline first, skipping a case another
    process holds (``SKIP LOCKED``); return its id, or None when none waits."""
    return session.execute(
        select(Case.id)
        .where(Case.triage_due.is_(True))
        .order_by(Case.deadline, Case.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).scalar_one_or_none()


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
    *, factory: sessionmaker[Session], policy: Policy, notifier: Notifier, limit: int = BATCH
) -> int:
    """Triage the cases waiting for it, one transaction each; return how many were triaged.
    Each case is claimed under its lock, still waiting for triage, so processes running this
    at the same moment share the cases out and never triage one twice."""
    with factory() as session:
        languages = reviewers.languages_read(session=session)
    done = 0
    while done < limit:
        try:
            with factory() as session, session.begin():
                case_id = claim_due(session=session)
                if case_id is None:
                    break
                triage_case(
                    session=session,
                    case_id=case_id,
                    policy=policy,
                    languages_read=languages,
                    notifier=notifier,
                )
        except Exception as error:
            if done:
                raise RoundCutShort(done) from error  # what is committed stays counted
            raise
        done += 1
    return done
