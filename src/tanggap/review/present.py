"""Shape cases, decisions and near-duplicates for the reviewers' API."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from tanggap.actions import service as actions
from tanggap.cases import cascade, priority
from tanggap.cases import service as cases
from tanggap.cases.models import Case, Decision
from tanggap.cases.schemas import (
    ActionOut,
    CaseOut,
    DecisionOut,
    NearDuplicateOut,
    PostSummary,
    PriorityFactor,
    PriorityOut,
)
from tanggap.db.base import utcnow
from tanggap.posts.service import post_url
from tanggap.review.authors import removed_posts


def near_duplicate_out(session: Session, case_id: uuid.UUID) -> list[NearDuplicateOut]:
    """Shape a case's near-duplicates."""
    return [
        NearDuplicateOut(
            link_id=link.id,
            channel=handle,
            message_id=post.message_id,
            url=post_url(handle, post.message_id),
            text=post.text[:500],
            similarity=link.similarity,
            state=link.state,
        )
        for link, post, handle in cascade.near_duplicates(session=session, case_id=case_id)
    ]


def decision_out(session: Session, decision: Decision) -> DecisionOut:
    """Shape a decision with the current state of its actions."""
    session.expire_all()
    return DecisionOut(
        decision_id=decision.id,
        case_id=decision.case_id,
        outcome=decision.outcome,
        category=decision.category,
        countries=decision.countries,
        ground=decision.ground,
        policy_ref=decision.policy_ref,
        explanation=decision.explanation,
        automated=decision.automated,
        decided_at=decision.decided_at,
        state=decision.state,
        approved_at=decision.approved_at,
        actions=[
            ActionOut(
                action_id=a.id,
                kind=a.kind,
                state=a.state,
                attempts=a.attempts,
                delivered_at=a.delivered_at,
            )
            for a in actions.actions_of_decision(session=session, decision_id=decision.id)
        ],
    )


def case_out(session: Session, case: Case) -> CaseOut:
    """Shape a case with its post for a reviewer."""
    post, handle = cases.post_of(session=session, case=case)
    return CaseOut(
        case_id=case.id,
        state=case.state,
        category=case.category,
        language=case.language,
        queue=case.queue,
        deadline=case.deadline,
        priority=case.priority,
        priority_explained=PriorityOut(
            band=priority.BAND_NAMES[
                priority.band(now=utcnow(), deadline=case.deadline, near_at=case.near_at)
            ],
            head_start_minutes=case.priority,
            rank_at=case.rank_at,
            near_deadline_at=case.near_at,
            factors=[PriorityFactor(**f) for f in case.priority_factors],
            triaged_at=case.triaged_at,
        ),
        report_count=case.report_count,
        automated=case.automated,
        claimed_by=case.claimed_by_id,
        lease_expires_at=case.lease_expires_at,
        lead_only=case.lead_only,
        escalation_reason=case.escalation_reason,
        escalated_at=case.escalated_at,
        breached_at=case.breached_at,
        opened_at=case.opened_at,
        decided_at=case.decided_at,
        post=PostSummary(
            channel=handle,
            message_id=post.message_id,
            url=post_url(handle, post.message_id),
            text=post.text,
            posted_at=post.posted_at,
            views=post.views,
            language=post.language,
            author_ref=post.author_ref,
            author_removed_posts=removed_posts(
                session=session, author_ref=post.author_ref, besides_post_id=post.id
            ),
            media=[
                {"sha256": m.sha256, "md5": m.md5, "pdq": m.pdq, "url": m.url} for m in post.media
            ],
        ),
    )
