"""Everything the console's case page shows, gathered in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.actions import service as actions
from tanggap.actions.models import Action
from tanggap.appeals.models import Appeal
from tanggap.audit import service as audit
from tanggap.audit.models import AuditEvent
from tanggap.auth.schemas import Caller
from tanggap.cases import cascade, priority
from tanggap.cases.models import Case, Decision, DecisionState, NearDuplicate
from tanggap.channels.models import Channel
from tanggap.detection import service as detection
from tanggap.detection.models import Signal
from tanggap.flaggers.models import FlaggerOrg
from tanggap.policy.schemas import Category, Policy
from tanggap.policy.service import find_category
from tanggap.posts import service as posts
from tanggap.posts.models import Post
from tanggap.reports import service as reports
from tanggap.reports import threads
from tanggap.reports.models import Report, ReportMessage
from tanggap.review.authors import removed_posts
from tanggap.review.reach import allowed_outcomes

RECENT_POSTS = 5
# What the console's decision form offers on a case that is not an appeal, in its order, with
# each one's key.
FIRST_INSTANCE_OUTCOMES = (
    ("remove", "r"),
    ("geo_restrict", "g"),
    ("no_violation", "n"),
    ("ban_channel", "b"),
    ("ban_member", "m"),
)


@dataclass
class ReportView:
    """One report on the case, with who sent it and its thread (flagger reports only)."""

    report: Report
    organisation: str | None
    messages: list[ReportMessage]


@dataclass
class CaseDetail:
    """A case with its post, channel, reports, decisions, appeal and history."""

    case: Case
    category: Category
    post: Post
    channel: Channel
    recent_posts: list[Post]
    reports: list[ReportView]
    decisions: list[Decision]
    pending: Decision | None
    appeal: Appeal | None
    appealed: Decision | None
    actions: list[Action]  # the takedowns the decisions caused, and where their delivery stands
    history: list[AuditEvent]
    band: str
    signals: list[Signal]
    near_duplicates: list[tuple[NearDuplicate, Post, str]]
    author_removed_posts: int  # the author's other posts removed, on decisions that stand
    # The outcomes (with their keys) a first-instance decision may take on this post's platform.
    outcomes: list[tuple[str, str]]

    @property
    def newest_unread(self) -> datetime | None:
        """When the newest flagger message the platform has not read yet was written, or None."""
        return max(
            (
                m.created_at
                for view in self.reports
                for m in view.messages
                if m.author_role == "flagger" and m.read_by_platform_at is None
            ),
            default=None,
        )

    @property
    def held_by(self) -> object:
        """Return who holds the case under a live lease, or None."""
        return self.case.claimed_by_id


def load(
    *,
    session: Session,
    case: Case,
    caller: Caller,
    policy: Policy,
    now: datetime,
    default_platform: str = "builtin",
) -> CaseDetail:
    """Gather the case page (reading it changes nothing: the page marks its threads read with a
    form of its own, see ``mark_threads_read``)."""
    post = session.get(Post, case.post_id)
    assert post is not None
    channel = session.get(Channel, post.channel_id)
    assert channel is not None
    category = find_category(policy, case.category)
    assert category is not None
    hidden = reports.hidden_categories(session=session, caller=caller, policy=policy)
    report_rows = list(
        session.execute(
            select(Report, FlaggerOrg.name)
            .outerjoin(FlaggerOrg, FlaggerOrg.id == Report.flagger_org_id)
            .where(Report.case_id == case.id)
            .where(reports.visible_to(caller, hidden))
            .order_by(Report.received_at)
        ).all()
    )
    views = [
        ReportView(
            report=report,
            organisation=org,
            messages=threads.thread(
                session=session, caller=caller, report_id=report.id, policy=policy
            )
            if report.source == "flagger"
            else [],
        )
        for report, org in report_rows
    ]
    decisions = list(
        session.execute(
            select(Decision).where(Decision.case_id == case.id).order_by(Decision.decided_at)
        ).scalars()
    )
    appeal = session.get(Appeal, case.appeal_id) if case.appeal_id else None
    taken = actions.actions_of_case(session=session, case_id=case.id)
    subjects: list[object] = [
        case.id,
        *(r.id for r, _ in report_rows),
        *(d.id for d in decisions),
        *(a.id for a in taken),
    ]
    return CaseDetail(
        case=case,
        category=category,
        post=post,
        channel=channel,
        recent_posts=[
            p
            for p in posts.channel_posts(
                session=session, channel_id=channel.id, before=None, limit=RECENT_POSTS + 1
            )
            if p.id != post.id
        ][:RECENT_POSTS],
        reports=views,
        decisions=decisions,
        pending=next((d for d in decisions if d.state == DecisionState.PENDING_APPROVAL), None),
        appeal=appeal,
        appealed=session.get(Decision, appeal.appealed_decision_id) if appeal else None,
        actions=taken,
        history=audit.events_about(session=session, subject_ids=subjects),
        band=priority.BAND_NAMES[
            priority.band(now=now, deadline=case.deadline, near_at=case.near_at)
        ],
        signals=detection.signals_of(session=session, post_id=post.id),
        near_duplicates=cascade.near_duplicates(session=session, case_id=case.id),
        author_removed_posts=removed_posts(
            session=session, author_ref=post.author_ref, besides_post_id=post.id
        ),
        outcomes=[
            (outcome, key)
            for outcome, key in FIRST_INSTANCE_OUTCOMES
            if outcome in allowed_outcomes(session, post, (outcome,), default_platform)
        ],
    )


def mark_threads_read(
    *, session: Session, caller: Caller, case: Case, upto: datetime | None, policy: Policy
) -> int:
    """Mark the flaggers' messages on the case's reports the caller may see read by the
    platform (those written by ``upto``, the newest the page showed); return how many."""
    hidden = reports.hidden_categories(session=session, caller=caller, policy=policy)
    report_ids = list(
        session.execute(
            select(Report.id)
            .where(Report.case_id == case.id)
            .where(Report.source == "flagger")
            .where(reports.visible_to(caller, hidden))
        ).scalars()
    )
    return sum(
        threads.mark_read(
            session=session, caller=caller, report_id=report_id, upto=upto, policy=policy
        )
        for report_id in report_ids
    )


def record_reveal(*, session: Session, caller: Caller, case: Case, position: int) -> None:
    """Audit that a reviewer unblurred a media item of a graphic case."""
    audit.record(
        session=session,
        actor=caller.audit_actor,
        action="media.revealed",
        subject_type="case",
        subject_id=case.id,
        data={"position": position},
    )
