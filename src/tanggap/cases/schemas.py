"""Cases and decisions in and out (staff-facing)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field, model_validator

from tanggap.cases.models import DecisionState, Ground, LinkState, Outcome
from tanggap.cases.priority import Band
from tanggap.cases.states import CaseState
from tanggap.validation import POLICY_CATEGORY, CountryCode, Input

RESTRICTING_OUTCOMES: frozenset[str] = frozenset(
    {"remove", "geo_restrict", "ban_channel", "ban_member"}
)
APPEAL_OUTCOMES: frozenset[str] = frozenset({"uphold", "reverse"})
# Outcomes that take effect only once a second reviewer approves them (four eyes).
FOUR_EYES_OUTCOMES: frozenset[str] = frozenset({"ban_channel", "ban_member"})


class DecisionIn(Input):
    """A reviewer's decision on a claimed case."""

    outcome: Outcome
    countries: list[CountryCode] | None = Field(default=None, max_length=250)
    ground: Ground | None = None
    policy_ref: str | None = Field(default=None, min_length=1, max_length=200)
    category: str | None = Field(
        default=None,
        max_length=64,
        description="The category found violated; the case's by default",
        json_schema_extra={POLICY_CATEGORY: True},
    )
    explanation: str = Field(min_length=1, max_length=5000)
    add_to_bank: str | None = Field(
        default=None,
        max_length=64,
        description="A hash bank to add the removed content's hashes to (its media, and its text "
        "when long enough to be specific), so re-uploads are caught on ingest; reviewers may "
        "choose banks with the review policy, leads any bank",
    )

    @model_validator(mode="after")
    def _fields_fit_outcome(self) -> DecisionIn:
        if self.add_to_bank is not None and self.outcome != "remove":
            raise ValueError("add_to_bank: only removed content goes to a bank")
        if self.outcome == "geo_restrict":
            if not self.countries:
                raise ValueError("countries: geo_restrict needs at least one country")
            self.countries = sorted(set(self.countries))
        elif self.countries:
            raise ValueError(f"countries: only geo_restrict takes countries, not {self.outcome}")
        if self.outcome in RESTRICTING_OUTCOMES:
            if self.ground is None:
                raise ValueError(f"ground: {self.outcome} needs a ground (law or terms)")
            if self.policy_ref is None:
                raise ValueError(f"policy_ref: {self.outcome} needs the policy it enforces")
        return self


class EscalationIn(Input):
    """Hand a case to the leads, saying why."""

    reason: str = Field(min_length=1, max_length=2000)


class ApprovalIn(Input):
    """A second reviewer's verdict on a decision that needs four eyes."""

    approve: bool
    note: str | None = Field(default=None, max_length=2000)


class PostSummary(BaseModel):
    """The reported post as a reviewer sees it."""

    channel: str
    message_id: int
    url: str
    text: str
    posted_at: datetime
    views: int | None
    language: str | None
    author_ref: str
    author_removed_posts: int = Field(
        description="How many other posts of the same author (by pseudonym) were removed, on a "
        "decision that stands"
    )
    media: list[dict[str, str | None]]


class PriorityFactor(BaseModel):
    """One reason for a case's place in its queue."""

    factor: str
    value: str
    minutes: float


class PriorityOut(BaseModel):
    """Why a case sits where it does (docs/review.md)."""

    band: Band
    head_start_minutes: float
    rank_at: datetime
    near_deadline_at: datetime
    factors: list[PriorityFactor]
    triaged_at: datetime | None


class CaseOut(BaseModel):
    """A case in a reviewer's list or page."""

    case_id: uuid.UUID
    state: CaseState
    category: str
    language: str
    queue: str
    deadline: datetime
    priority: float
    priority_explained: PriorityOut
    report_count: int
    automated: bool
    claimed_by: uuid.UUID | None
    lease_expires_at: datetime | None
    lead_only: bool
    escalation_reason: str | None
    escalated_at: datetime | None
    breached_at: datetime | None
    opened_at: datetime
    decided_at: datetime | None
    post: PostSummary


class CaseList(BaseModel):
    """One page of cases, earliest deadline first."""

    cases: list[CaseOut]
    total: int
    limit: int
    offset: int


class ActionOut(BaseModel):
    """An effect of a decision and where its delivery stands."""

    action_id: uuid.UUID
    kind: str
    state: str
    attempts: int
    delivered_at: datetime | None


class DecisionOut(BaseModel):
    """A recorded decision with the actions it caused."""

    decision_id: uuid.UUID
    case_id: uuid.UUID
    outcome: Outcome
    category: str
    countries: list[str]
    ground: Ground | None
    policy_ref: str | None
    explanation: str
    automated: bool
    decided_at: datetime
    state: DecisionState
    approved_at: datetime | None
    actions: list[ActionOut]


class NearDuplicateOut(BaseModel):
    """A post carrying (nearly) the same content as the case's post."""

    link_id: uuid.UUID
    channel: str
    message_id: int
    url: str
    text: str
    similarity: float
    state: LinkState


class CascadeIn(Input):
    """Which near-duplicates the case's removal should cover (all attached ones when omitted)."""

    link_ids: list[uuid.UUID] | None = Field(default=None, max_length=1000)


class CascadeResult(BaseModel):
    """What the cascade did with one near-duplicate."""

    link_id: uuid.UUID
    state: LinkState
    case_id: uuid.UUID | None
    decision_id: uuid.UUID | None
    reason: str | None


class CascadeOut(BaseModel):
    """The cascade's results, in the order of the near-duplicates."""

    results: list[CascadeResult]
