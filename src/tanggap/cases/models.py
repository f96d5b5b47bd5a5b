"""Cases (the unit of review) and the decisions taken on them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from tanggap.cases import states
from tanggap.cases.states import CaseState
from tanggap.db.base import Base, JSONType, StrEnumType, new_id, utcnow

Outcome = Literal[
    "remove", "geo_restrict", "ban_channel", "ban_member", "no_violation", "uphold", "reverse"
]
Ground = Literal["law", "terms"]


class DecisionState(StrEnum):
    """A decision in force, waiting for a second reviewer (four eyes), or rejected by one."""

    FINAL = "final"
    PENDING_APPROVAL = "pending_approval"
    REJECTED = "rejected"


class LinkState(StrEnum):
    """A near-duplicate attached to a case: waiting, covered by its decision, or left alone."""

    ATTACHED = "attached"
    APPLIED = "applied"
    SKIPPED = "skipped"


class Case(Base):
    """One reported post under review: its deadline, queue, claim and state."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_state_deadline", "state", "deadline"),
        Index("ix_cases_state_rank", "state", "rank_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), unique=True)
    state: Mapped[CaseState] = mapped_column(StrEnumType(CaseState, 20), default=states.INITIAL)
    category: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="und")
    queue: Mapped[str] = mapped_column(String(80), index=True)
    deadline: Mapped[datetime]
    # Triage (review/triage.py, cases/priority.py): the head start in minutes, the factors behind
    # it, the time the case counts as near its deadline, and its rank time (deadline minus the
    # head start).
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    priority_factors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    near_at: Mapped[datetime]
    rank_at: Mapped[datetime]
    triage_due: Mapped[bool] = mapped_column(default=True, index=True)
    triaged_at: Mapped[datetime | None]
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    automated: Mapped[bool] = mapped_column(default=False)
    claimed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("principals.id"))
    lease_expires_at: Mapped[datetime | None]
    # Escalated by a reviewer: only leads take it until decided.
    lead_only: Mapped[bool] = mapped_column(default=False)
    escalation_reason: Mapped[str | None] = mapped_column(Text)
    # Passed the near-deadline point (leads told) / the deadline itself.
    escalated_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    # An open appeal, and the reviewer who may not decide it (the one who decided before).
    appeal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("appeals.id", use_alter=True))
    excluded_reviewer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("principals.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # reports' periods
    decided_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @validates("state")
    def _legal_move(self, _key: str, target: CaseState) -> CaseState:
        # Every assignment, wherever it is written, obeys the one transition table.
        states.check(self.state, CaseState(target))
        return CaseState(target)


class Decision(Base):
    """What a reviewer (or an automated rule) decided on a case, and why."""

    __tablename__ = "decisions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    outcome: Mapped[Outcome] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    countries: Mapped[list[str]] = mapped_column(default=list)
    ground: Mapped[Ground | None] = mapped_column(String(8))
    policy_ref: Mapped[str | None] = mapped_column(String(200))
    explanation: Mapped[str] = mapped_column(Text)
    automated: Mapped[bool] = mapped_column(default=False)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("principals.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # reports' periods
    state: Mapped[DecisionState] = mapped_column(
        StrEnumType(DecisionState, 20), default=DecisionState.FINAL
    )
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("principals.id"))
    approved_at: Mapped[datetime | None]
    appeal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("appeals.id", use_alter=True))
    # The hash bank the removed content's hashes go to once the decision takes effect, so that
    # re-uploads are caught on ingest.
    bank_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("banks.id"))


class NearDuplicate(Base):
    """A post found to carry (nearly) the same content as a case's post; one decision may
    cover both."""

    __tablename__ = "case_near_duplicates"
    __table_args__ = (UniqueConstraint("case_id", "post_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    similarity: Mapped[float] = mapped_column(Float)
    state: Mapped[LinkState] = mapped_column(StrEnumType(LinkState, 16), default=LinkState.ATTACHED)
    applied_decision_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("decisions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
