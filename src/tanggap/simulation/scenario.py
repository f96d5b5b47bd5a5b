"""The shape of a scenario file: arrivals, rosters, handling times, targets (docs/simulation.md)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

Source = Literal["removal_order", "flagger", "user", "automated"]
Discipline = Literal["fifo", "fifo_per_language", "tanggap"]
DISCIPLINES: tuple[Discipline, ...] = ("fifo", "fifo_per_language", "tanggap")

_DURATION = re.compile(r"\s*([0-9]{1,9}(?:\.[0-9]{1,9})?)\s*([smhd])\s*")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def parse_seconds(value: object) -> float:
    """Read ``90s``, ``30m``, ``4h`` or ``7d`` as a number of seconds (zero allowed)."""
    if not isinstance(value, str):
        raise ValueError(f"duration must be text like 30m, 4h or 7d, not {type(value).__name__}")
    match = _DURATION.fullmatch(value)
    if not match:
        raise ValueError(f"duration {value[:40]!r} must look like 90s, 30m, 4h or 7d")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_clock(value: object) -> float:
    """Read a time of day ``HH:MM`` as seconds after midnight."""
    if not isinstance(value, str) or not _CLOCK.fullmatch(value.strip()):
        raise ValueError(f"time of day {str(value)[:40]!r} must look like 07:00")
    hours, minutes = value.strip().split(":")
    return int(hours) * 3600 + int(minutes) * 60


Seconds = Annotated[float, BeforeValidator(parse_seconds)]
ClockTime = Annotated[float, BeforeValidator(parse_clock)]
Basis = Annotated[str, Field(min_length=8, description="a public figure, or 'assumption: ...'")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Spread(_Strict):
    """A lognormal quantity given by its median and 90th percentile (equal: a fixed value)."""

    median: float = Field(gt=0)
    p90: float = Field(gt=0)


class Handling(_Strict):
    """How long a reviewer takes to decide a case of one category."""

    median: Seconds = Field(gt=0)
    p90: Seconds = Field(gt=0)
    basis: Basis

    @field_validator("p90")
    @classmethod
    def _p90_not_below_median(cls, value: float, info: ValidationInfo) -> float:
        median = info.data.get("median")
        if median is not None and value < median:
            raise ValueError("p90 must not be below the median")
        return value


class Burst(_Strict):
    """A stretch of time in which a stream arrives ``factor`` times as often."""

    at: Seconds
    length: Seconds
    factor: float = Field(ge=0)
    basis: Basis


class Stream(_Strict):
    """Cases of one source, category and language arriving at a rate per hour."""

    source: Source
    category: str
    language: str
    rate_per_hour: float = Field(ge=0)
    basis: Basis
    cycle: str = "flat"
    audience: Spread | None = None
    signal: float = Field(default=0.0, ge=0, le=1)
    bursts: list[Burst] = Field(default_factory=list)


class Shift(_Strict):
    """A daily shift in the scenario's local time; it may run past midnight."""

    start: ClockTime
    length: Seconds = Field(gt=0, le=86400)


class RosterGroup(_Strict):
    """Reviewers alike: how many, their role, languages, clearances and shift (none: always)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    count: int = Field(ge=0, le=1000)
    role: Literal["reviewer", "lead", "admin"] = "reviewer"
    languages: list[str] = Field(min_length=1)
    clearances: list[str] = Field(default_factory=list)
    shift: Shift | None = None


class Target(_Strict):
    """A claim checked against the Tanggap discipline: which cases, and what they must reach."""

    name: str
    source: Source | None = None
    category: str | None = None
    deadline_class: str | None = None
    clock: Seconds | None = None
    p95_at_most: Seconds | None = None
    share_within_at_least: float | None = Field(default=None, ge=0, le=1)
    fifo_p95_ratio_at_least: float | None = Field(default=None, gt=0)


class Plan(_Strict):
    """What the staffing planner asks of a roster, and how far it searches."""

    share_within_at_least: float = Field(default=0.99, gt=0, le=1)
    # A backlog that grows a little every day can still meet a long clock within the horizon;
    # a group busier than this on duty has no room for a bad day, and is not enough.
    max_utilisation: float = Field(default=0.85, gt=0, le=1)
    max_count: int = Field(default=60, ge=1, le=1000)


class Scenario(_Strict):
    """A whole scenario file."""

    name: str
    description: str = ""
    seed: int
    start: datetime
    duration: Seconds = Field(gt=0, le=31 * 86400)
    warmup: Seconds = 0.0
    drain: Seconds = 2 * 86400.0
    policy: str = "default"
    claim_lease: Seconds = 600.0
    watch_interval: Seconds = Field(default=15.0, gt=0)
    abandon_basis: str = ""
    abandon_share: float = Field(default=0.0, ge=0, le=1)
    sample_every: Seconds = Field(default=900.0, gt=0)
    cycles: dict[str, list[float]] = Field(default_factory=dict)
    arrivals: list[Stream] = Field(min_length=1)
    roster: list[RosterGroup] = Field(min_length=1)
    handling: dict[str, Handling]
    targets: list[Target] = Field(default_factory=list)
    plan: Plan = Field(default_factory=Plan)

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("start must carry a UTC offset, like 2026-01-05T00:00:00+07:00")
        return value

    @field_validator("abandon_share")
    @classmethod
    def _abandon_traced(cls, value: float, info: ValidationInfo) -> float:
        if value > 0 and len(info.data.get("abandon_basis", "").strip()) < 8:
            raise ValueError("needs an abandon_basis: a public figure, or 'assumption: ...'")
        return value

    @field_validator("cycles")
    @classmethod
    def _cycles_have_24_hours(cls, value: dict[str, list[float]]) -> dict[str, list[float]]:
        for name, hours in value.items():
            if len(hours) != 24 or min(hours) < 0 or sum(hours) <= 0:
                raise ValueError(f"cycle {name!r} must hold 24 non-negative hourly weights")
        return value

    def at(self, seconds: float) -> datetime:
        """Return the moment ``seconds`` after the scenario's start."""
        return self.start + timedelta(seconds=seconds)
