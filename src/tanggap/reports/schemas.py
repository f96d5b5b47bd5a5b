"""Reports in and out; what leaves here for a flagger is an explicit allow-list."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    Field,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from tanggap.reports.links import LinkError, parse_post_link
from tanggap.reports.models import MessageKind, ReportStatus, ThreadSide
from tanggap.validation import (
    MAX_JSON_DEPTH,
    POLICY_CATEGORY,
    Handle,
    Input,
    MessageId,
    json_depth,
    short_id,
)

REPORT_STATUSES: tuple[str, ...] = tuple(status.value for status in ReportStatus)
OPEN_STATUSES: tuple[ReportStatus, ...] = (
    ReportStatus.RECEIVED,
    ReportStatus.TRIAGED,
    ReportStatus.IN_REVIEW,
)
SETTLED_STATUSES: tuple[ReportStatus, ...] = (ReportStatus.ACTIONED, ReportStatus.DECLINED)
MAX_BULK = 1000


class TargetRef(Input):
    """A post named by channel and message id."""

    channel: Handle
    message_id: MessageId


class ReportIn(Input):
    """A report on one public post."""

    target: TargetRef = Field(
        description="A link such as https://t.me/<channel>/<message_id>, or {channel, message_id}"
    )
    category: str = Field(min_length=1, max_length=64, json_schema_extra={POLICY_CATEGORY: True})
    note: str | None = Field(default=None, max_length=2000)
    order_type: Literal["notice", "removal_order"] = "notice"
    legal_basis: str | None = Field(
        default=None, max_length=500, description="The law or order the report rests on"
    )
    issuing_authority: str | None = Field(
        default=None, max_length=300, description="Removal orders: the authority that issued it"
    )
    deadline: AwareDatetime | None = Field(
        default=None,
        description="Removal orders: the order's own deadline; it can shorten the policy's clock",
    )
    reporter_id: StrictStr | StrictInt | None = Field(
        default=None,
        union_mode="left_to_right",
        description="Platform only: the id of the user who reported; pseudonymised, never stored",
    )

    @field_validator("target", mode="before")
    @classmethod
    def _parse_link(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                ref = parse_post_link(value)
            except LinkError as exc:
                raise ValueError(str(exc)) from exc
            return {"channel": ref.channel, "message_id": ref.message_id}
        return value

    @model_validator(mode="after")
    def _removal_order_fields(self) -> ReportIn:
        if self.order_type == "removal_order":
            if not self.issuing_authority:
                raise ValueError("issuing_authority: a removal order names the issuing authority")
            if not self.legal_basis:
                raise ValueError("legal_basis: a removal order names its legal reference")
        else:
            if self.issuing_authority:
                raise ValueError("issuing_authority: only removal orders carry one")
            if self.deadline is not None:
                raise ValueError("deadline: only removal orders carry their own deadline")
        return self

    @field_validator("reporter_id")
    @classmethod
    def _reporter_id_text(cls, value: str | int | None) -> str | None:
        return None if value is None else short_id(value, "reporter_id")


class ReportReceipt(BaseModel):
    """The answer to a submitted report."""

    report_id: uuid.UUID
    case_id: uuid.UUID
    status: ReportStatus
    deadline: datetime
    duplicate: bool = False


class TargetOut(BaseModel):
    """The reported post's public address."""

    channel: str
    message_id: int
    url: str


class ReportOut(BaseModel):
    """A report as its reporter sees it: no author, no reviewer, no other reporter."""

    report_id: uuid.UUID
    case_id: uuid.UUID
    status: ReportStatus
    category: str
    order_type: str
    legal_basis: str | None
    issuing_authority: str | None
    note: str | None
    target: TargetOut
    received_at: datetime
    deadline: datetime
    time_left_seconds: int | None = Field(
        description="Until the deadline while open; negative once overrun"
    )
    decided_at: datetime | None
    time_to_action_seconds: int | None = Field(description="From receipt to the settling decision")
    within_deadline: bool | None = Field(description="Settled by the deadline; null while open")
    objection: str | None = Field(default=None, description="The platform's reasoned objection")
    unread_messages: int = 0
    outcome: str | None = None
    countries: list[str] | None = None
    ground: str | None = None
    policy_ref: str | None = None
    explanation: str | None = None


def _shallow(line: Any) -> Any:
    if json_depth(line) > MAX_JSON_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    return line


class BulkIn(Input):
    """Up to 1,000 reports in one request; each line is judged on its own."""

    # Each line is judged on its own, but one nested hundreds of levels deep cannot even be kept
    # as the request's fingerprint: the request is refused, naming the line.
    reports: list[Annotated[Any, AfterValidator(_shallow)]] = Field(
        min_length=1, max_length=MAX_BULK
    )


class BulkLine(BaseModel):
    """The fate of one line of a bulk submission."""

    index: int
    status: Literal["accepted", "duplicate", "unknown_post", "invalid"]
    report_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    deadline: datetime | None = None
    error: str | None = None


class BulkOut(BaseModel):
    """Every line's fate, in input order."""

    results: list[BulkLine]


class ReportList(BaseModel):
    """One page of the caller's reports, newest first."""

    reports: list[ReportOut]
    total: int
    limit: int
    offset: int


class MessageIn(Input):
    """A message on a report's thread."""

    body: str = Field(min_length=1, max_length=5000)


class ObjectionIn(Input):
    """A reasoned objection (sanggahan) to a flagger's report instead of acting on it."""

    report_id: uuid.UUID
    reason: str = Field(min_length=10, max_length=5000)


class MessageOut(BaseModel):
    """A message as either side sees it."""

    message_id: uuid.UUID
    author_role: ThreadSide
    kind: MessageKind
    body: str
    created_at: datetime
    read_by_flagger_at: datetime | None
    read_by_platform_at: datetime | None


class Thread(BaseModel):
    """A report's whole thread, oldest first."""

    report_id: uuid.UUID
    messages: list[MessageOut]
