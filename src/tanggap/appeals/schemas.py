"""Appeals in and out, and the statement of reasons (EU DSA Art. 17)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from tanggap.appeals.models import AppealState
from tanggap.validation import Handle, Input, MessageId

Restriction = Literal[
    "removal",
    "geo_restriction",
    "channel_suspension",
    "removal_and_member_ban",
    "none",
    "restriction_lifted",
]
# The source of a decision as the EU Transparency Database names it (API v1): an authority's
# order, a trusted flagger's notice, a user's notice (Art. 16), or the platform's own initiative.
SourceType = Literal[
    "SOURCE_TYPE_OTHER_NOTIFICATION",
    "SOURCE_TRUSTED_FLAGGER",
    "SOURCE_ARTICLE_16",
    "SOURCE_VOLUNTARY",
]


class AppealIn(Input):
    """The owner of a post asks, through the platform, for a decision to be reviewed again."""

    channel: Handle
    message_id: MessageId
    reason: str = Field(min_length=1, max_length=5000)


class AppealOut(BaseModel):
    """An appeal and where it stands."""

    appeal_id: uuid.UUID
    case_id: uuid.UUID
    appealed_decision_id: uuid.UUID
    state: AppealState
    filed_at: datetime
    deadline: datetime
    decided_at: datetime | None
    decision_id: uuid.UUID | None


class Redress(BaseModel):
    """How the affected person can contest the decision (DSA Art. 17(3)(f), 20, 21)."""

    internal_complaint: str
    internal_complaint_until: datetime
    out_of_court_settlement: str
    judicial_redress: str


class StatementOfReasons(BaseModel):
    """Why a post was restricted, in the fields of EU DSA Art. 17 and its transparency database."""

    decision_id: uuid.UUID
    channel: str
    message_id: int
    url: str
    restriction: Restriction
    decision_visibility: str | None
    decision_account: str | None
    # What the decision did to the author's account (DSA Art. 17(1)(c)), in words: set when the
    # author was banned from the group the post was in.
    account_restriction: str | None = None
    territorial_scope: list[str]
    facts_and_circumstances: str
    decision_ground: (
        Literal["DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"] | None
    )
    legal_ground: str | None
    incompatible_content_ground: str | None
    category: str
    category_name: str
    dsa_category: str
    dsa_keyword: str
    source_type: SourceType
    automated_detection: bool
    automated_decision: Literal["AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_NOT_AUTOMATED"]
    decided_at: datetime
    application_date: datetime | None
    appeal: AppealOut | None
    redress: Redress
    # Set when a removal reversed on appeal could not be undone on the platform (Telegram cannot
    # bring back a deleted message): what became of the post.
    restoration: str | None = None
