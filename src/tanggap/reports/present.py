"""Shape reports for their reporters, loading what a page needs in a few queries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tanggap.cases.models import Decision
from tanggap.channels.models import Channel
from tanggap.db.base import utcnow
from tanggap.posts.models import Post
from tanggap.posts.service import post_url
from tanggap.reports.models import Report, ReportMessage, ReportStatus
from tanggap.reports.schemas import OPEN_STATUSES, ReportOut, TargetOut


def present(
    *, session: Session, reports: Sequence[Report], now: datetime | None = None
) -> list[ReportOut]:
    """Return the reporter's view of each report, in the same order."""
    if not reports:
        return []
    now = now or utcnow()
    post_ids = {r.post_id for r in reports}
    targets = {
        post_id: (handle, message_id)
        for post_id, handle, message_id in session.execute(
            select(Post.id, Channel.handle, Post.message_id)
            .join(Channel, Channel.id == Post.channel_id)
            .where(Post.id.in_(post_ids))
        )
    }
    decision_ids = {r.decision_id for r in reports if r.decision_id}
    decisions = {
        d.id: d
        for d in session.execute(select(Decision).where(Decision.id.in_(decision_ids))).scalars()
    }
    report_ids = [r.id for r in reports]
    objections = _objections(session, report_ids)
    unread = dict(
        session.execute(
            select(ReportMessage.report_id, func.count())
            .where(ReportMessage.report_id.in_(report_ids))
            .where(ReportMessage.author_role == "platform")
            .where(ReportMessage.read_by_flagger_at.is_(None))
            .group_by(ReportMessage.report_id)
        ).all()
    )
    return [
        _one(
            r,
            targets[r.post_id],
            decisions.get(r.decision_id) if r.decision_id else None,
            objections,
            unread,
            now,
        )
        for r in reports
    ]


def _objections(session: Session, report_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    latest: dict[uuid.UUID, str] = {}
    for report_id, body in session.execute(
        select(ReportMessage.report_id, ReportMessage.body)
        .where(ReportMessage.report_id.in_(report_ids))
        .where(ReportMessage.kind == "objection")
        .order_by(ReportMessage.created_at)
    ):
        latest[report_id] = body
    return latest


def _one(
    report: Report,
    target: tuple[str, int],
    decision: Decision | None,
    objections: dict[uuid.UUID, str],
    unread: dict[uuid.UUID, int],
    now: datetime,
) -> ReportOut:
    handle, message_id = target
    settled = report.decided_at is not None and report.status not in OPEN_STATUSES
    out = ReportOut(
        report_id=report.id,
        case_id=report.case_id,
        status=report.status,
        category=report.category,
        order_type=report.order_type,
        legal_basis=report.legal_basis,
        issuing_authority=report.issuing_authority,
        note=report.note,
        target=TargetOut(channel=handle, message_id=message_id, url=post_url(handle, message_id)),
        received_at=report.received_at,
        deadline=report.deadline,
        time_left_seconds=None if settled else int((report.deadline - now).total_seconds()),
        decided_at=report.decided_at,
        time_to_action_seconds=(
            int((report.decided_at - report.received_at).total_seconds())
            if settled and report.decided_at
            else None
        ),
        within_deadline=(
            report.decided_at <= report.deadline if settled and report.decided_at else None
        ),
        objection=objections.get(report.id) if report.status == ReportStatus.OBJECTED else None,
        unread_messages=unread.get(report.id, 0),
    )
    if decision is not None:
        out.outcome = decision.outcome
        out.countries = decision.countries or None
        out.ground = decision.ground
        out.policy_ref = decision.policy_ref
        out.explanation = decision.explanation
    return out


def describe(session: Session, report_ids: Sequence[uuid.UUID]) -> list[dict[str, object]]:
    """The reporter's view of each report as JSON, as a webhook carries it, in the order asked
    for (no unread count: it would be stale by the time the receiver reads it)."""
    found = {
        report.id: report
        for report in session.execute(select(Report).where(Report.id.in_(report_ids))).scalars()
    }
    missing = [str(report_id) for report_id in report_ids if report_id not in found]
    if missing:
        raise ValueError(f"no report {', '.join(missing)}")
    shown = present(session=session, reports=[found[report_id] for report_id in report_ids])
    return [out.model_dump(mode="json", exclude={"unread_messages"}) for out in shown]
