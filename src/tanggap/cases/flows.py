"""Flows that cross domains: a claim moves reports into review, a decision creates actions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.actions import service as actions
from tanggap.actions.models import Action
from tanggap.appeals.models import Appeal
from tanggap.audit import service as audit
from tanggap.auth.schemas import LEAD_ROLES, Caller
from tanggap.banks import service as banks
from tanggap.banks.models import Bank
from tanggap.cases import cascade
from tanggap.cases import service as cases
from tanggap.cases.models import Case, Decision
from tanggap.cases.schemas import (
    APPEAL_OUTCOMES,
    FOUR_EYES_OUTCOMES,
    ApprovalIn,
    DecisionIn,
    EscalationIn,
)
from tanggap.db.base import utcnow
from tanggap.errors import Conflict, Forbidden, InvalidInput, NotFound
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
    """Record the caller's decision on a case they hold; settle its reports and queue its
    actions, or wait for a second reviewer when the outcome needs four eyes."""
    case = cases.lock(session=session, case_id=case_id)
    cases.require_claim(case=case, caller=caller)
    category = data.category or case.category
    cases.validate_category(policy=policy, category=category)
    appeal = session.get(Appeal, case.appeal_id) if case.appeal_id else None
    if appeal is not None and data.outcome not in APPEAL_OUTCOMES:
        raise InvalidInput("this case is an appeal: decide uphold or reverse", field="outcome")
    if appeal is None and data.outcome in APPEAL_OUTCOMES:
        raise InvalidInput(f"{data.outcome} answers an appeal; this case has none", field="outcome")

    bank = _bank_named(session, data.add_to_bank, caller)
    needs_approval = data.outcome in FOUR_EYES_OUTCOMES
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
        state="pending_approval" if needs_approval else "final",
        appeal_id=appeal.id if appeal else None,
        bank_id=bank.id if bank else None,
    )
    session.add(decision)
    case.claimed_by_id = None
    case.lease_expires_at = None
    case.state = "awaiting_approval" if needs_approval else "decided"
    session.flush()
    _audit_decision(session, caller.audit_actor, "decision.recorded", case, decision)
    if needs_approval:
        return DecisionResult(decision=decision, actions=[])
    if appeal is not None:
        return _answer_appeal(session, caller, case, appeal, decision, notifier)
    return _apply(session, caller.audit_actor, case, decision, notifier, policy)


def _bank_named(session: Session, name: str | None, caller: Caller) -> Bank | None:
    """The bank a decision fills: one whose matches a reviewer reviews, or any for a lead (an
    automatic bank removes on sight, a lead's call)."""
    if name is None:
        return None
    try:
        bank = banks.get(session=session, name=name)
    except NotFound as exc:
        raise InvalidInput(exc.message, field="add_to_bank") from exc
    if bank.policy != "review" and caller.role not in LEAD_ROLES:
        raise Forbidden(
            f"the bank {name!r} acts automatically ({bank.policy}): only a lead may fill it",
            field="add_to_bank",
        )
    return bank


def _audit_decision(
    session: Session, actor: str, action: str, case: Case, decision: Decision, **extra: object
) -> None:
    audit.record(
        session=session,
        actor=actor,
        action=action,
        subject_type="case",
        subject_id=case.id,
        data={
            "decision_id": str(decision.id),
            "outcome": decision.outcome,
            "category": decision.category,
            "countries": decision.countries,
            "ground": decision.ground,
            "policy_ref": decision.policy_ref,
            "state": decision.state,
            **extra,
        },
    )


def _apply(
    session: Session,
    actor: str,
    case: Case,
    decision: Decision,
    notifier: Notifier,
    policy: Policy,
    cascade_copies: bool = True,
) -> DecisionResult:
    """Put a final decision into effect: settle or hold the reports, queue the actions, and
    attach the near-copies of removed content (the cascade) for the reviewer to cover."""
    case.state = "decided"
    case.decided_at = decision.decided_at
    case.lead_only = False
    # A report is "actioned" only once the platform applied the action (see actions.service);
    # until then it stays in review, so a flagger never reads "actioned" for a post still up.
    status = "declined" if decision.outcome == "no_violation" else "in_review"
    for report in reports.reports_of_case(session=session, case_id=case.id, statuses=OPEN_STATUSES):
        if report.status != status:
            reports.set_status(
                session=session,
                report=report,
                status=status,
                actor=actor,
                notifier=notifier,
                decision_id=decision.id if status == "declined" else None,
            )
    post = session.get(Post, case.post_id)
    assert post is not None
    queued = actions.create_for_decision(session=session, decision=decision, post=post, actor=actor)
    if cascade_copies and decision.outcome in cascade.CASCADING_OUTCOMES:
        cascade.attach(session=session, case=case, policy=policy)
    bank = session.get(Bank, decision.bank_id) if decision.bank_id else None
    if bank is not None:
        banks.add_content(session=session, bank=bank, post=post, actor=actor, case_id=case.id)
    return DecisionResult(decision=decision, actions=queued)


def apply_to_near_duplicates(
    *,
    session: Session,
    caller: Caller,
    case_id: uuid.UUID,
    link_ids: list[uuid.UUID] | None,
    policy: Policy,
    notifier: Notifier,
) -> tuple[list[cascade.Applied], list[Action]]:
    """Let the removal of a case cover its near-copies (all attached ones, or those named):
    each gets its own case and decision, and its takedown goes through the outbox."""
    skills = reviewers.skills_of(session=session, principal_id=caller.id)
    cases.get(session=session, case_id=case_id, skills=skills, policy=policy)
    source = cases.lock(session=session, case_id=case_id)
    decision, links = cascade.targets(session=session, case=source, link_ids=link_ids)
    results: list[cascade.Applied] = []
    queued: list[Action] = []
    for link in links:
        target, why = cascade.open_target(
            session=session, link=link, source=source, decision=decision, actor=caller.audit_actor
        )
        if target is None:
            link.state = "skipped"
            cascade.record(session, caller.audit_actor, source, link, "skipped")
            results.append(cascade.Applied(link, None, None, why))
            continue
        copy = Decision(
            case_id=target.id,
            outcome=decision.outcome,
            category=decision.category,
            countries=list(decision.countries),
            ground=decision.ground,
            policy_ref=decision.policy_ref,
            explanation=decision.explanation,
            automated=False,
            decided_by_id=caller.id,
            decided_at=utcnow(),
            state="final",
        )
        session.add(copy)
        target.claimed_by_id = None
        target.lease_expires_at = None
        session.flush()
        _audit_decision(
            session,
            caller.audit_actor,
            "decision.recorded",
            target,
            copy,
            cascade_from=str(source.id),
        )
        applied = _apply(
            session, caller.audit_actor, target, copy, notifier, policy, cascade_copies=False
        )
        link.state = "applied"
        link.applied_decision_id = copy.id
        cascade.record(session, caller.audit_actor, source, link, "applied")
        results.append(cascade.Applied(link, target, copy))
        queued.extend(applied.actions)
    session.flush()
    return results, queued


def _answer_appeal(
    session: Session,
    caller: Caller,
    case: Case,
    appeal: Appeal,
    decision: Decision,
    notifier: Notifier,
) -> DecisionResult:
    """Close an appeal: ``uphold`` leaves the action standing, ``reverse`` restores the post."""
    appeal.state = "upheld" if decision.outcome == "uphold" else "reversed"
    appeal.decided_at = decision.decided_at
    appeal.decision_id = decision.id
    case.appeal_id = None
    case.excluded_reviewer_id = None
    case.decided_at = decision.decided_at
    session.flush()
    audit.record(
        session=session,
        actor=caller.audit_actor,
        action=f"appeal.{appeal.state}",
        subject_type="appeal",
        subject_id=appeal.id,
        data={"decision_id": str(decision.id)},
    )
    queued: list[Action] = []
    if decision.outcome == "reverse":
        appealed = session.get(Decision, appeal.appealed_decision_id)
        if appealed is not None and appealed.bank_id is not None:
            banks.remove_case_entries(
                session=session,
                bank_id=appealed.bank_id,
                case_id=appealed.case_id,
                actor=caller.audit_actor,
            )
        post = session.get(Post, case.post_id)
        assert appealed is not None and post is not None
        queued = actions.create_restore(
            session=session,
            decision=decision,
            appealed=appealed,
            post=post,
            actor=caller.audit_actor,
        )
        # Those whose reports the reversed decision answered hear that the post is back.
        for report in reports.reports_of_case(
            session=session, case_id=case.id, statuses=("actioned",)
        ):
            if report.decision_id == appealed.id:
                notifier.report_changed(
                    session=session, report=report, event="report.decision_reversed"
                )
    return DecisionResult(decision=decision, actions=queued)


def approve_decision(
    *,
    session: Session,
    caller: Caller,
    case_id: uuid.UUID,
    data: ApprovalIn,
    policy: Policy,
    notifier: Notifier,
) -> DecisionResult:
    """A second reviewer approves (it takes effect) or rejects (the case returns to its queue)
    a decision that needs four eyes."""
    skills = reviewers.skills_of(session=session, principal_id=caller.id)
    cases.get(session=session, case_id=case_id, skills=skills, policy=policy)
    case = cases.lock(session=session, case_id=case_id)
    if case.state != "awaiting_approval":
        raise Conflict(f"case {case.id} has no decision awaiting approval", field="case_id")
    decision = session.execute(
        select(Decision)
        .where(Decision.case_id == case.id)
        .where(Decision.state == "pending_approval")
        .with_for_update()
    ).scalar_one()
    if decision.decided_by_id == caller.id:
        raise Forbidden("four eyes: someone other than the decision's author must approve it")
    decision.approved_by_id = caller.id
    decision.approved_at = utcnow()
    if not data.approve:
        decision.state = "rejected"
        case.state = "open"
        session.flush()
        _audit_decision(
            session, caller.audit_actor, "decision.rejected", case, decision, note=data.note
        )
        return DecisionResult(decision=decision, actions=[])
    decision.state = "final"
    session.flush()
    _audit_decision(
        session, caller.audit_actor, "decision.approved", case, decision, note=data.note
    )
    return _apply(session, caller.audit_actor, case, decision, notifier, policy)


def escalate_case(
    *, session: Session, caller: Caller, case_id: uuid.UUID, data: EscalationIn, notifier: Notifier
) -> Case:
    """Hand a case you hold to the leads with a reason; it leaves the reviewers' queues."""
    case = cases.lock(session=session, case_id=case_id)
    cases.require_claim(case=case, caller=caller)
    case.lead_only = True
    case.escalation_reason = data.reason
    case.claimed_by_id = None
    case.lease_expires_at = None
    case.state = "open"
    session.flush()
    cases.audit_case(
        session, caller.audit_actor, "case.escalated_to_lead", case, reason=data.reason
    )
    notifier.case_escalated(session=session, case=case, reason=data.reason)
    return case


def decide_automatically(
    *,
    session: Session,
    case: Case,
    outcome: str,
    countries: list[str],
    policy_ref: str,
    explanation: str,
    actor: str,
    policy: Policy,
    notifier: Notifier,
) -> DecisionResult:
    """Decide a case without a reviewer (a hash bank's auto_* policy): an automated decision,
    audited, its action through the outbox, the case kept for sampling review."""
    decision = Decision(
        case_id=case.id,
        outcome=outcome,
        category=case.category,
        countries=countries,
        ground="terms",
        policy_ref=policy_ref,
        explanation=explanation,
        automated=True,
        decided_by_id=None,
        decided_at=utcnow(),
        state="final",
    )
    session.add(decision)
    case.claimed_by_id = None
    case.lease_expires_at = None
    session.flush()
    _audit_decision(session, actor, "decision.recorded", case, decision, automated=True)
    return _apply(session, actor, case, decision, notifier, policy)
