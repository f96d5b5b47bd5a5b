"""Deciding cases: a reviewer's decision, a second reviewer's approval (four eyes), an escalation
to the leads, and detection's automatic decisions. ``effects`` puts a final decision into
effect."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from tanggap.appeals.models import Appeal
from tanggap.auth.schemas import LEAD_ROLES, Caller
from tanggap.banks import service as banks
from tanggap.banks.models import Bank
from tanggap.cases import claims, decisions, states
from tanggap.cases import service as cases
from tanggap.cases.decisions import Ruling
from tanggap.cases.models import Case, DecisionState, Outcome
from tanggap.cases.schemas import (
    APPEAL_OUTCOMES,
    FOUR_EYES_OUTCOMES,
    ApprovalIn,
    DecisionIn,
    EscalationIn,
)
from tanggap.cases.states import CaseState
from tanggap.db.base import utcnow
from tanggap.errors import Conflict, Forbidden, InvalidInput, NotFound
from tanggap.notify.port import CaseAlert, Notifier
from tanggap.policy.schemas import Policy
from tanggap.policy.service import require_category
from tanggap.review.effects import DecisionResult, answer_appeal, take_effect
from tanggap.review.reach import require_reachable
from tanggap.reviewers import service as reviewers


def decide_case(
    *,
    session: Session,
    caller: Caller,
    case_id: uuid.UUID,
    data: DecisionIn,
    policy: Policy,
    notifier: Notifier,
    default_platform: str = "builtin",
) -> DecisionResult:
    """Record the caller's decision on a case they hold; settle its reports and queue its
    actions, or wait for a second reviewer when the outcome needs four eyes. An outcome the
    post's platform cannot carry out (``default_platform``: where a channel that names none
    lives) is refused."""
    case = cases.lock(session=session, case_id=case_id)
    claims.require_claim(case=case, caller=caller)
    category = data.category or case.category
    require_category(policy=policy, category=category)
    appeal = session.get(Appeal, case.appeal_id) if case.appeal_id else None
    if appeal is not None and data.outcome not in APPEAL_OUTCOMES:
        raise InvalidInput("this case is an appeal: decide uphold or reverse", field="outcome")
    if appeal is None and data.outcome in APPEAL_OUTCOMES:
        raise InvalidInput(f"{data.outcome} answers an appeal; this case has none", field="outcome")
    require_reachable(session, case.post_id, data.outcome, default_platform)

    bank = _bank_named(session, data.add_to_bank, caller)
    needs_approval = data.outcome in FOUR_EYES_OUTCOMES
    decision = decisions.record(
        session=session,
        case=case,
        ruling=Ruling(
            outcome=data.outcome,
            category=category,
            explanation=data.explanation,
            countries=list(data.countries or []),
            ground=data.ground,
            policy_ref=data.policy_ref,
        ),
        actor=caller.audit_actor,
        decided_by_id=caller.id,
        state=DecisionState.PENDING_APPROVAL if needs_approval else DecisionState.FINAL,
        appeal_id=appeal.id if appeal else None,
        bank_id=bank.id if bank else None,
    )
    if needs_approval:
        states.move(case, CaseState.AWAITING_APPROVAL)
        session.flush()
        return DecisionResult(decision=decision, actions=[])
    if appeal is not None:
        states.move(case, CaseState.DECIDED)
        return answer_appeal(session, caller, case, appeal, decision, notifier, default_platform)
    return take_effect(session, caller.audit_actor, case, decision, notifier, policy)


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


def approve_decision(
    *,
    session: Session,
    caller: Caller,
    case_id: uuid.UUID,
    data: ApprovalIn,
    policy: Policy,
    notifier: Notifier,
    default_platform: str = "builtin",
) -> DecisionResult:
    """A second reviewer approves (it takes effect) or rejects (the case returns to its queue)
    a decision that needs four eyes; an approval the post's platform cannot carry out is
    refused."""
    skills = reviewers.skills_of(session=session, principal_id=caller.id)
    cases.get(session=session, case_id=case_id, skills=skills, policy=policy)
    case = cases.lock(session=session, case_id=case_id)
    if case.state != CaseState.AWAITING_APPROVAL:
        raise Conflict(f"case {case.id} has no decision awaiting approval", field="case_id")
    decision = decisions.awaiting_approval(session=session, case=case)
    if decision.decided_by_id == caller.id:
        raise Forbidden("four eyes: someone other than the decision's author must approve it")
    if data.approve:
        require_reachable(session, case.post_id, decision.outcome, default_platform)
    decision.approved_by_id = caller.id
    decision.approved_at = utcnow()
    if not data.approve:
        decision.state = DecisionState.REJECTED
        states.move(case, CaseState.OPEN)
        session.flush()
        decisions.audit_decision(
            session, caller.audit_actor, "decision.rejected", case, decision, note=data.note
        )
        return DecisionResult(decision=decision, actions=[])
    decision.state = DecisionState.FINAL
    session.flush()
    decisions.audit_decision(
        session, caller.audit_actor, "decision.approved", case, decision, note=data.note
    )
    return take_effect(session, caller.audit_actor, case, decision, notifier, policy)


def alert_of(case: Case, reason: str) -> CaseAlert:
    """What the leads are told about ``case``: only what finds it, never its content."""
    return CaseAlert(
        case_id=case.id,
        queue=case.queue,
        category=case.category,
        deadline=case.deadline,
        reason=reason,
    )


def escalate_case(
    *, session: Session, caller: Caller, case_id: uuid.UUID, data: EscalationIn, notifier: Notifier
) -> Case:
    """Hand a case you hold to the leads with a reason; it leaves the reviewers' queues."""
    case = cases.lock(session=session, case_id=case_id)
    claims.require_claim(case=case, caller=caller)
    case.lead_only = True
    case.escalation_reason = data.reason
    states.move(case, CaseState.OPEN)
    session.flush()
    cases.audit_case(
        session, caller.audit_actor, "case.escalated_to_lead", case, reason=data.reason
    )
    notifier.case_escalated(session=session, alert=alert_of(case, data.reason))
    return case


def decide_automatically(
    *,
    session: Session,
    case: Case,
    outcome: Outcome,
    countries: list[str],
    policy_ref: str,
    explanation: str,
    actor: str,
    policy: Policy,
    notifier: Notifier,
) -> DecisionResult:
    """Decide a case without a reviewer (a hash bank's or a rule's automatic policy): an
    automated decision, audited, its action through the outbox, the case kept for sampling
    review."""
    decision = decisions.record(
        session=session,
        case=case,
        ruling=Ruling(
            outcome=outcome,
            category=case.category,
            explanation=explanation,
            countries=countries,
            ground="terms",
            policy_ref=policy_ref,
        ),
        actor=actor,
        decided_by_id=None,
        automated=True,
    )
    return take_effect(session, actor, case, decision, notifier, policy)
