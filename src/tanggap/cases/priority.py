"""The triage score: which case a reviewer gets next, and why (pure: no database).

Cases past their deadline come first, then cases near it (past ``near_deadline`` of their
clock), then the rest. Within each band the case with the earliest *rank time* goes first:
its deadline minus a head start in minutes that severity, reach, source, the number of reports
and detection signals earn it (weights in the policy file). Ties go to the case opened first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from tanggap.policy.schemas import Triage

PrioritySource = Literal["removal_order", "flagger", "user", "automated"]
Band = Literal["overdue", "near_deadline", "within_deadline"]
OVERDUE, NEAR, LATER = 0, 1, 2
BAND_NAMES: dict[int, Band] = {OVERDUE: "overdue", NEAR: "near_deadline", LATER: "within_deadline"}


@dataclass(frozen=True)
class TriageInputs:
    """What triage knows of a case."""

    clock_started_at: datetime
    deadline: datetime
    severity: int
    subscribers: int | None
    views: int | None
    source: PrioritySource
    report_count: int
    signal_score: float = 0.0


@dataclass(frozen=True)
class Factor:
    """One reason for a case's place: what it is, its value, the minutes of head start it earns."""

    factor: str
    value: str
    minutes: float


@dataclass(frozen=True)
class Priority:
    """A case's head start, the factors behind it, and the two times that order it."""

    head_start_minutes: float
    factors: tuple[Factor, ...]
    near_at: datetime
    rank_at: datetime

    def factor_dicts(self) -> list[dict[str, Any]]:
        """Return the factors as plain dictionaries (stored with the case)."""
        return [asdict(f) for f in self.factors]


def strongest_source(reports: Iterable[tuple[str, str | None]]) -> PrioritySource:
    """Return the strongest source among a case's reports, given as (source, order type)."""
    seen = list(reports)
    if any(order_type == "removal_order" for _, order_type in seen):
        return "removal_order"
    if any(source == "flagger" for source, _ in seen):
        return "flagger"
    if any(source == "user" for source, _ in seen):
        return "user"
    return "automated"


def prioritise(inputs: TriageInputs, triage: Triage) -> Priority:
    """Score a case under the policy's triage weights."""
    weights = triage.weights
    audience = max(inputs.subscribers or 0, inputs.views or 0)
    decades = max(0.0, math.log10(audience / weights.reach_floor)) if audience > 0 else 0.0
    extra_reports = min(max(inputs.report_count - 1, 0), weights.reports_cap)
    signal = min(max(inputs.signal_score, 0.0), 1.0)
    factors = (
        Factor("severity", str(inputs.severity), weights.severity * inputs.severity),
        Factor("reach", f"{audience}", round(weights.reach * decades, 2)),
        Factor("source", inputs.source, getattr(weights.source, inputs.source)),
        Factor("reports", str(inputs.report_count), weights.reports * extra_reports),
        Factor("signals", f"{signal:.2f}", round(weights.signals * signal, 2)),
    )
    head_start = round(sum(f.minutes for f in factors), 2)
    clock = inputs.deadline - inputs.clock_started_at
    near_at = inputs.clock_started_at + clock * triage.near_deadline
    return Priority(
        head_start_minutes=head_start,
        factors=factors,
        near_at=near_at,
        rank_at=inputs.deadline - timedelta(minutes=head_start),
    )


def band(*, now: datetime, deadline: datetime, near_at: datetime) -> int:
    """Return the urgency band of a case: OVERDUE, NEAR or LATER."""
    if deadline <= now:
        return OVERDUE
    if near_at <= now:
        return NEAR
    return LATER


def order_key(
    *, now: datetime, deadline: datetime, near_at: datetime, rank_at: datetime, opened_at: datetime
) -> tuple[int, datetime, datetime]:
    """Return the key that sorts cases the way "next case" hands them out."""
    return (band(now=now, deadline=deadline, near_at=near_at), rank_at, opened_at)
