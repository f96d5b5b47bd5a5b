"""Flows that cross domains: a claim moves reports into review, a decision creates actions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from tanggap.actions import service as actions
from tanggap.actions.models import Action
from tanggap.audit import service as audit
from tanggap.auth.schemas import Caller
from tanggap.cases import service as cases
from tanggap.cases.models import Case, Decision
from tanggap.cases.schemas import DecisionIn
from tanggap.db.base import utcnow
from tanggap.notify.service import Notifier
from tanggap.policy.schemas import Policy
from tanggap.posts.models import Post
from tanggap.reports import service as reports
from tanggap.reports.schemas import OPEN_STATUSES
from tanggap.reviewers import service as reviewers


@dataclass
class DecisionResult:
    """A recorded decision and the actions it queued."""

    decision: Decision
    actions: list[Action]


def claim_case(
    *,
    session: Session,
    caller: Caller,
    case_id: uuid.UUID,
    lease: timedelta,
    policy: Policy,
    notifier: Notifier,
) -> Case:
    """Claim a case for ``caller`` and tell its reporters it is in review."""
    skills = reviewers.skills_of(session=session, principal_id=caller.id)
    case = cases.claim(
        session=session, caller=caller, case_id=case_id, lease=lease, skills=skills, policy=policy
    )
    _reports_in_review(session, caller, case, notifier)
    return case


def next_case(
    *, session: Session, caller: Caller, lease: timedelta, policy: Policy, notifier: Notifier
) -> Case | None:
    """Claim the next case ``caller`` may take (None when nothing waits); reporters are told."""
    skills = reviewers.skills_of(session=session, principal_id=caller.id)
    case = cases.next_case(
        session=session, caller=caller, skills=skills, policy=policy, lease=lease
    )
    if case is not None:
        _reports_in_review(session, caller, case, notifier)
    return case


def _reports_in_review(session: Session, caller: Caller, case: Case, notifier: Notifier) -> None:
    for report in reports.reports_of_case(
        session=session, case_id=case.id, statuses=("received", "triaged")
    ):
        reports.set_status(
            session=session,
            report=report,
            status="in_review",
            actor=caller.audit_actor,
            notifier=notifier,
        )


def decide_case(
    *,
    session: Session,
    caller: Caller,
    case_id: uuid.UUID,
    data: DecisionIn,
    policy: Policy,
    notifier: Notifier,
) -> DecisionResult:
    """Record the caller's decision on a case they hold, settle its reports, queue its actions."""
    case = cases.lock(session=session, case_id=case_id)
    cases.require_claim(case=case, caller=caller)
    category = data.category or case.category
    cases.validate_category(policy=policy, category=category)

    decision = Decision(
        case_id=case.id,
        outcome=data.outcome,
        category=category,
        countries=list(data.countries or []),
        ground=data.ground,
        policy_ref=data.policy_ref,
        explanation=data.explanation,
        automated=False,
        decided_by_id=caller.id,
        decided_at=utcnow(),
    )
    session.add(decision)
    case.state = "decided"
    case.decided_at = decision.decided_at
    case.claimed_by_id = None
    case.lease_expires_at = None
    session.flush()
    audit.record(
        session=session,
        actor=caller.audit_actor,
        action="decision.recorded",
        subject_type="case",
        subject_id=case.id,
        data={
            "decision_id": str(decision.id),
            "outcome": decision.outcome,
            "category": category,
            "countries": decision.countries,
            "ground": decision.ground,
            "policy_ref": decision.policy_ref,
        },
    )
    # A report is "actioned" only once the platform applied the action (see actions.service);
    # until then it stays in review, so a flagger never reads "actioned" for a post still up.
    status = "declined" if data.outcome == "no_violation" else "in_review"
    for report in reports.reports_of_case(session=session, case_id=case.id, statuses=OPEN_STATUSES):
        if report.status != status:
            reports.set_status(
                session=session,
                report=report,
                status=status,
                actor=caller.audit_actor,
                notifier=notifier,
                decision_id=decision.id if status == "declined" else None,
            )
    post = session.get(Post, case.post_id)
    assert post is not None
    queued = actions.create_for_decision(
        session=session, decision=decision, post=post, actor=caller.audit_actor
    )
    return DecisionResult(decision=decision, actions=queued)
