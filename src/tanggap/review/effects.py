"""Putting a final decision into effect: the case's reports settle or wait for the takedown,
its actions go to the outbox, the near-copies of removed content are attached, a bank is filled;
and an appeal's answer restores what it reverses."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tanggap.actions import service as actions
from tanggap.actions.models import Action
from tanggap.actions.service import restore_kinds
from tanggap.appeals.models import Appeal, AppealState
from tanggap.audit import service as audit
from tanggap.auth.schemas import Caller
from tanggap.banks import service as banks
from tanggap.banks.models import Bank
from tanggap.cases import cascade, states
from tanggap.cases.models import Case, Decision
from tanggap.cases.states import CaseState
from tanggap.notify.port import DecisionTaken, Notifier
from tanggap.policy.schemas import Policy
from tanggap.posts.models import Post
from tanggap.reports import service as reports
from tanggap.reports.models import ReportStatus
from tanggap.reports.schemas import OPEN_STATUSES
from tanggap.review.reach import unreachable


@dataclass
class DecisionResult:
    """A recorded decision and the actions it queued (to deliver once the transaction commits)."""

    decision: Decision
    actions: list[Action]


def take_effect(
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
    states.move(case, CaseState.DECIDED)
    case.decided_at = decision.decided_at
    case.lead_only = False
    # A report is "actioned" only once the platform applied the action (see the runtime's
    # outbox); until then it stays in review, so a flagger never reads "actioned" for a post
    # still up.
    declined = decision.outcome == "no_violation"
    status = ReportStatus.DECLINED if declined else ReportStatus.IN_REVIEW
    for report in reports.reports_of_case(session=session, case_id=case.id, statuses=OPEN_STATUSES):
        if report.status != status:
            reports.set_status(
                session=session,
                report=report,
                status=status,
                actor=actor,
                notifier=notifier,
                decision_id=decision.id if declined else None,
            )
    post = session.get(Post, case.post_id)
    assert post is not None
    queued = actions.create_for_decision(session=session, decision=decision, post=post, actor=actor)
    if cascade_copies and decision.outcome in cascade.CASCADING_OUTCOMES:
        cascade.attach(session=session, case=case, policy=policy)
    bank = session.get(Bank, decision.bank_id) if decision.bank_id else None
    if bank is not None:
        banks.add_content(session=session, bank=bank, post=post, actor=actor, case_id=case.id)
    notifier.decision_taken(session=session, decision=DecisionTaken(decision.id))
    return DecisionResult(decision=decision, actions=queued)


def answer_appeal(
    session: Session,
    caller: Caller,
    case: Case,
    appeal: Appeal,
    decision: Decision,
    notifier: Notifier,
    default_platform: str = "builtin",
) -> DecisionResult:
    """Close an appeal: ``uphold`` leaves the action standing, ``reverse`` restores the post,
    or, where the platform cannot restore it, records that it stays down."""
    appeal.state = AppealState.UPHELD if decision.outcome == "uphold" else AppealState.REVERSED
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
    if decision.outcome != "reverse":
        return DecisionResult(decision=decision, actions=[])
    appealed = session.get(Decision, appeal.appealed_decision_id)
    post = session.get(Post, case.post_id)
    assert appealed is not None and post is not None
    notifier.decision_taken(
        session=session, decision=DecisionTaken(decision.id, reverses=appealed.id)
    )
    actions.cancel_pending(session=session, decision_id=appealed.id, actor=caller.audit_actor)
    if appealed.bank_id is not None:
        banks.remove_case_entries(
            session=session,
            bank_id=appealed.bank_id,
            case_id=appealed.case_id,
            actor=caller.audit_actor,
        )
    queued = []
    for kind in restore_kinds(appealed):
        cannot = unreachable(session, post, (kind,), default_platform)
        if cannot is None:
            queued.append(
                actions.create_restore(
                    session=session,
                    decision=decision,
                    appealed=appealed,
                    kind=kind,
                    post=post,
                    actor=caller.audit_actor,
                )
            )
            continue
        audit.record(
            session=session,
            actor=caller.audit_actor,
            action="appeal.restore_impossible",
            subject_type="appeal",
            subject_id=appeal.id,
            data={"decision_id": str(decision.id), "kind": kind, "reason": cannot},
        )
    # Those whose reports the reversed decision answered hear that the post is back.
    for report in reports.reports_of_case(
        session=session, case_id=case.id, statuses=(ReportStatus.ACTIONED,)
    ):
        if report.decision_id == appealed.id:
            reports.notify(notifier, session, report, "report.decision_reversed")
    return DecisionResult(decision=decision, actions=queued)
