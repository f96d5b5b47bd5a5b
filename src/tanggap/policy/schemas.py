"""The policy file's shape: categories, deadline classes, durations."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

Source = Literal["flagger", "user", "automated"]
OrderType = Literal["notice", "removal_order"]

_DURATION = re.compile(r"\s*([0-9]{1,9}(?:\.[0-9]{1,9})?)\s*([mhd])\s*")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}
MAX_DURATION = timedelta(days=3660)  # ten years: any longer clock is a typing error


def parse_duration(value: object) -> timedelta:
    """Read ``30m``, ``4h`` or ``7d`` as a positive duration."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):  # YAML's numbers and lists: no unit, and repr() may fail
        raise ValueError(f"duration must be text like 30m, 4h or 7d, not {type(value).__name__}")
    match = _DURATION.fullmatch(value)
    if not match:
        raise ValueError(f"duration {value[:40]!r} must look like 30m, 4h or 7d")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"duration {value.strip()!r} must be longer than zero")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"duration {value.strip()!r} must be at most {MAX_DURATION.days}d")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeadlineClass(_Strict):
    """How long each source of report may wait, for the categories of one class."""

    flagger: Duration
    user: Duration
    automated: Duration


class DsaLabel(_Strict):
    """The category and keyword of the DSA transparency database."""

    category: str
    keyword: str


class Category(_Strict):
    """One harm category."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    deadline_class: str = Field(alias="class")
    severity: int = Field(ge=1, le=10)
    graphic: bool = False
    # Only reviewers cleared for it by name may see a restricted category's cases.
    restricted: bool = False
    name: dict[str, str]
    description: str = ""
    dsa: DsaLabel

    def display_name(self, language: str = "en") -> str:
        """Return the category's name in ``language``, falling back to English."""
        return self.name.get(language) or self.name.get("en") or self.id


class SourceWeights(_Strict):
    """Head start, in minutes, by the strongest source among a case's reports."""

    removal_order: float = Field(ge=0)
    flagger: float = Field(ge=0)
    user: float = Field(ge=0)
    automated: float = Field(ge=0)


class TriageWeights(_Strict):
    """How many minutes of head start each factor gives a case (see docs/review.md)."""

    severity: float = Field(ge=0, description="per point of the category's severity (1-10)")
    reach: float = Field(ge=0, description="per tenfold audience above reach_floor")
    reach_floor: int = Field(ge=1)
    source: SourceWeights
    reports: float = Field(ge=0, description="per report beyond the first")
    reports_cap: int = Field(ge=0, description="reports beyond this many add nothing")
    signals: float = Field(ge=0, description="times the strongest detection score (0-1)")


class Triage(_Strict):
    """Where a case stands in the queues: when it counts as near its deadline, the weights."""

    near_deadline: float = Field(
        gt=0, lt=1, description="share of its clock after which a case is near its deadline"
    )
    appeal_deadline: Duration
    weights: TriageWeights


class DetectionPolicy(_Strict):
    """How close is close enough for detection."""

    near_duplicate_similarity: float = Field(default=0.6, gt=0, le=1)


class Retention(_Strict):
    """How long each kind of data is kept before the retention job purges it
    (docs/retention.md): the free text of a row is replaced by a marker, or a row nothing
    refers to is deleted."""

    report_notes: Duration = Field(
        default=timedelta(days=365), description="a settled report's note, after its receipt"
    )
    thread_messages: Duration = Field(
        default=timedelta(days=365), description="a thread message's body, after it was sent"
    )
    decision_texts: Duration = Field(
        default=timedelta(days=730), description="a decision's explanation, after the decision"
    )
    idempotency_records: Duration = Field(
        default=timedelta(days=7), description="a stored answer to a retried request"
    )
    delivery_attempts: Duration = Field(
        default=timedelta(days=90),
        description="webhook attempt rows and the error texts of finished deliveries",
    )
    web_sessions: Duration = Field(
        default=timedelta(days=7), description="a web session, after it expired"
    )
    job_heartbeats: Duration = Field(
        default=timedelta(days=7), description="a job's heartbeat row, after its last round"
    )
    letters: Duration = Field(
        default=timedelta(days=730), description="a rendered letter's text, after it was made"
    )
    telegram_members: Duration = Field(
        default=timedelta(days=180),
        description="a Telegram member's sealed id after their last post, if no case concerns them",
    )


class LegalPolicy(_Strict):
    """How requests from authorities are answered (docs/legal.md)."""

    # no_disclosure: every request for user data is refused. court_order_suspect: granted only
    # for a court order naming a criminal suspect, assessed and approved by two people.
    data_requests: Literal["no_disclosure", "court_order_suspect"] = "no_disclosure"


class Policy(_Strict):
    """The whole policy file."""

    version: Literal[1]
    removal_order_deadline: Duration
    deadline_classes: dict[str, DeadlineClass]
    categories: list[Category] = Field(min_length=1)
    triage: Triage
    detection: DetectionPolicy = Field(default_factory=DetectionPolicy)
    retention: Retention = Field(default_factory=Retention)
    legal: LegalPolicy = Field(default_factory=LegalPolicy)
    # Explanations the console offers per outcome and language; {category} is filled in.
    explanations: dict[str, dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_references(self) -> Policy:
        seen: set[str] = set()
        for index, category in enumerate(self.categories):
            if category.id in seen:
                raise ValueError(f"categories[{index}]: duplicate category id {category.id!r}")
            seen.add(category.id)
            if category.deadline_class not in self.deadline_classes:
                known = ", ".join(sorted(self.deadline_classes))
                raise ValueError(
                    f"categories[{index}] ({category.id}): unknown class "
                    f"{category.deadline_class!r}; known: {known}"
                )
        return self
