"""Reports in and out; what leaves here for a flagger is an explicit allow-list."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictInt, StrictStr, field_validator

from tanggap.reports.links import LinkError, parse_post_link
from tanggap.validation import Handle, Input

ReportStatus = Literal["received", "in_review", "actioned", "declined"]
OPEN_STATUSES: tuple[str, ...] = ("received", "in_review")


class TargetRef(Input):
    """A post named by channel and message id."""

    channel: Handle
    message_id: int = Field(ge=1, le=2**53)


class ReportIn(Input):
    """A report on one public post."""

    target: TargetRef = Field(
        description="A link such as https://t.me/<channel>/<message_id>, or {channel, message_id}"
    )
    category: str = Field(min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=2000)
    order_type: Literal["notice", "removal_order"] = "notice"
    legal_basis: str | None = Field(default=None, max_length=500)
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

    @field_validator("reporter_id")
    @classmethod
    def _reporter_id_text(cls, value: str | int | None) -> str | None:
        if value is None:
            return None
        text = str(value).strip()
        if not text or len(text) > 128:
            raise ValueError("reporter_id must be 1-128 characters")
        return text


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
    note: str | None
    target: TargetOut
    received_at: datetime
    deadline: datetime
    decided_at: datetime | None
    outcome: str | None = None
    countries: list[str] | None = None
    ground: str | None = None
    policy_ref: str | None = None
    explanation: str | None = None
