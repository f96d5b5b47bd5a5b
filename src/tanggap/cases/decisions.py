"""Decisions on cases: recording one, and which decision is in force on a case."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.cases.models import Case, Decision, DecisionState, Ground, Outcome
from tanggap.db.base import utcnow


def in_force(*, session: Session, case_id: uuid.UUID) -> Decision | None:
    """Return the decision in force on a case, or None: its newest final decision, where an
    upheld appeal leaves the appealed decision in force and a reversal is itself in force."""
    return (
        session.execute(
            select(Decision)
            .where(Decision.case_id == case_id)
            .where(Decision.state == DecisionState.FINAL)
            .where(Decision.outcome != "uphold")  # an upheld decision stands as it was
            .order_by(Decision.decided_at.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


@dataclass(frozen=True)
class Ruling:
    """What is decided: the outcome and everything a statement of reasons needs."""

    outcome: Outcome
    category: str
    explanation: str
    countries: list[str] = field(default_factory=list)
    ground: Ground | None = None
    policy_ref: str | None = None


def ruling_of(decision: Decision) -> Ruling:
    """The ruling a recorded decision made (to make the same one on another case)."""
    return Ruling(
        outcome=decision.outcome,
        category=decision.category,
        explanation=decision.explanation,
        countries=list(decision.countries),
        ground=decision.ground,
        policy_ref=decision.policy_ref,
    )


def record(
    *,
    session: Session,
    case: Case,
    ruling: Ruling,
    actor: str,
    decided_by_id: uuid.UUID | None,
    automated: bool = False,
    state: DecisionState = DecisionState.FINAL,
    appeal_id: uuid.UUID | None = None,
    bank_id: uuid.UUID | None = None,
    **audit_extra: object,
) -> Decision:
    """Store a decision on ``case``, audited as ``decision.recorded`` (with ``audit_extra``, and
    marked automated when it is)."""
    decision = Decision(
        case_id=case.id,
        outcome=ruling.outcome,
        category=ruling.category,
        countries=list(ruling.countries),
        ground=ruling.ground,
        policy_ref=ruling.policy_ref,
        explanation=ruling.explanation,
        automated=automated,
        decided_by_id=decided_by_id,
        decided_at=utcnow(),
        state=state,
        appeal_id=appeal_id,
        bank_id=bank_id,
    )
    session.add(decision)
    session.flush()
    if automated:
        audit_extra = {**audit_extra, "automated": True}
    audit_decision(session, actor, "decision.recorded", case, decision, **audit_extra)
    return decision


def awaiting_approval(*, session: Session, case: Case) -> Decision:
    """Return, locked, the decision on ``case`` that waits for a second reviewer."""
    return session.execute(
        select(Decision)
        .where(Decision.case_id == case.id)
        .where(Decision.state == DecisionState.PENDING_APPROVAL)
        .with_for_update()
    ).scalar_one()


def audit_decision(
    session: Session, actor: str, action: str, case: Case, decision: Decision, **extra: object
) -> None:
    """Record an audit event about a decision on ``case``."""
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
