"""The transparency report's shape: fixed keys, one list of rows per breakdown (no personal data,
no names of organisations or people)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class OrdersByState(BaseModel):
    """Orders to act from the authorities of one member state (the issuing desk's country)."""

    country: str
    received: int
    given_effect: int
    median_seconds_to_effect: int | None


class OrdersByCategory(BaseModel):
    """Orders to act in one category."""

    category: str
    dsa_category: str
    received: int
    given_effect: int


class OrdersToAct(BaseModel):
    """1.2.1 and 1.2.3: removal orders received in the period and how they were handled."""

    received: int
    given_effect: int
    median_seconds_to_confirm: int | None = Field(
        description="Receipt is confirmed in the answer to the order itself: zero, or None "
        "with no order."
    )
    median_seconds_to_effect: int | None
    by_member_state: list[OrdersByState]
    by_category: list[OrdersByCategory]


class CountryRequests(BaseModel):
    """1.2.2: one country's government requests, as the legal register counts them."""

    country: str
    removal_requests_received: int
    removal_requests_actioned: int
    removal_requests_objected: int
    data_requests_received: int
    data_requests_disclosed: int
    data_requests_refused: int
    median_seconds_to_answer: int | None


class GovernmentRequests(BaseModel):
    """1.2.2 orders to provide information, per country; ``available`` is false where no
    register supplies them."""

    available: bool
    countries: list[CountryRequests]


class NoticesBySource(BaseModel):
    """Notices from one source: ``flagger`` (trusted flaggers) or ``user`` (Art. 16)."""

    source: str
    received: int
    actioned: int
    declined: int
    objected: int
    pending: int
    median_seconds_to_action: int | None


class NoticesByCategory(BaseModel):
    """Notices in one category, from one source."""

    category: str
    dsa_category: str
    source: str
    received: int
    actioned: int


class CountByOutcome(BaseModel):
    """How many decisions had one outcome."""

    outcome: str
    count: int


class Notices(BaseModel):
    """1.3: notices received in the period, the actions taken on them, and how fast."""

    received: int
    settled_by_automated_decision: int
    median_seconds_to_action: int | None
    by_source: list[NoticesBySource]
    by_category: list[NoticesByCategory]
    actions: list[CountByOutcome]


class CountByCategory(BaseModel):
    """How many in one category."""

    category: str
    dsa_category: str
    count: int


class CountByMethod(BaseModel):
    """How many found by one detection method."""

    method: str
    count: int


class OwnInitiative(BaseModel):
    """1.4: cases detection opened in the period, by category, restriction and method."""

    cases: int
    decided_automatically: int
    by_category: list[CountByCategory]
    by_restriction: list[CountByOutcome]
    by_detection_method: list[CountByMethod]


class Complaints(BaseModel):
    """1.5: appeals filed in the period and their outcomes; suspensions decided in it."""

    received: int
    upheld: int
    reversed: int
    pending: int
    median_seconds_to_decide: int | None
    channel_bans: int
    member_bans: int


class Automation(BaseModel):
    """1.6: how much was decided or detected automatically, and how often that was wrong."""

    decisions: int
    fully_automated: int
    fully_automated_share: float | None
    automated_detections: int
    automated_reversed_on_appeal: int
    automated_reversal_rate: float | None


class TerroristContent(BaseModel):
    """Reg. (EU) 2021/784 Art. 7: the yearly figures, for the period asked."""

    removal_orders_received: int
    removal_orders_acted_within_deadline: int
    deadline_seconds: int
    items_removed_or_disabled: int
    complaints: int
    complaints_upheld: int
    complaints_reversed: int
    items_restored_after_complaint: int


class Clock(BaseModel):
    """One legal clock of the policy: how many decided in the period kept it."""

    clock: str
    source: str
    deadline_seconds: int
    decided: int
    within_deadline: int
    within_deadline_share: float | None


class TransparencyReport(BaseModel):
    """The public transparency report over [since, until)."""

    since: datetime
    until: datetime
    orders_to_act: OrdersToAct
    government_requests: GovernmentRequests
    notices: Notices
    own_initiative: OwnInitiative
    complaints: Complaints
    automation: Automation
    terrorist_content: TerroristContent
    clocks: list[Clock]
