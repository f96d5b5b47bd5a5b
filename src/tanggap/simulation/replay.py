"""Replay a recorded period: its real arrivals, handling times and roster through the simulator
under Tanggap's order, and the predicted time to action set against what happened."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from tanggap.cases import visibility
from tanggap.policy.schemas import Policy
from tanggap.reviewers.schemas import Skills
from tanggap.simulation import figures
from tanggap.simulation.arrivals import Arrival, Recorded
from tanggap.simulation.engine import run
from tanggap.simulation.history import History, RecordedCase, RecordedReviewer
from tanggap.simulation.scenario import Scenario
from tanggap.simulation.team import Reviewer

# What the replay may miss by: a predicted p50 or p95 within this share of the recorded one, or
# within FLOOR_SECONDS of it when the recorded time is short (docs/simulation.md, "Replay").
TOLERATED_SHARE = 0.25
FLOOR_SECONDS = 300.0
# The handling time of a case nobody decided (nor claimed) when no decided case tells better.
FALLBACK_HANDLING = 300.0


@dataclass(frozen=True)
class Windows:
    """Stretches of time on duty, in seconds after the period's start."""

    stretches: tuple[tuple[float, float], ...]

    def on(self, now: float) -> bool:
        """Tell whether ``now`` falls in a stretch."""
        return any(begins <= now < ends for begins, ends in self.stretches)

    def until_on(self, now: float) -> float:
        """Return how long until the next stretch begins (infinite when none is left)."""
        if self.on(now):
            return 0.0
        later = [begins - now for begins, _ in self.stretches if begins > now]
        return min(later) if later else math.inf

    def until_off(self, now: float) -> float:
        """Return how long the stretch under way lasts."""
        for begins, ends in self.stretches:
            if begins <= now < ends:
                return ends - now
        return 0.0

    def seconds_on(self, start: float, end: float) -> float:
        """Return the seconds on duty between ``start`` and ``end``."""
        return sum(max(0.0, min(end, e) - max(start, b)) for b, e in self.stretches)


@dataclass(frozen=True)
class ReplayRow:
    """One source and category: the recorded and predicted p50/p95 time to action (seconds;
    infinite: the percentile falls on an undecided case)."""

    source: str
    category: str
    cases: int
    recorded_p50: float
    recorded_p95: float
    predicted_p50: float
    predicted_p95: float

    def error(self, which: str) -> float:
        """Return predicted minus recorded for ``p50`` or ``p95``, in seconds."""
        if which == "p50":
            return self.predicted_p50 - self.recorded_p50
        return self.predicted_p95 - self.recorded_p95

    def within(self, which: str) -> bool:
        """Tell whether the prediction is within the tolerated error."""
        recorded = self.recorded_p50 if which == "p50" else self.recorded_p95
        predicted = self.predicted_p50 if which == "p50" else self.predicted_p95
        if math.isinf(recorded) or math.isinf(predicted):
            return math.isinf(recorded) and math.isinf(predicted)
        return abs(predicted - recorded) <= max(TOLERATED_SHARE * recorded, FLOOR_SECONDS)


@dataclass(frozen=True)
class Replay:
    """The comparison, with what was replayed."""

    since: datetime
    until: datetime
    cases: int
    reviewers: int
    rows: list[ReplayRow]

    @property
    def holds(self) -> bool:
        """Tell whether every p50 and p95 is within the tolerated error."""
        return all(row.within("p50") and row.within("p95") for row in self.rows)


def _handling(cases: list[RecordedCase]) -> dict[str, float]:
    """Return the median handling time per category of the decided cases (and ``*``: all)."""
    by_category: dict[str, list[float]] = defaultdict(list)
    for case in cases:
        if case.handling_seconds is not None:
            by_category[case.category].append(case.handling_seconds)
            by_category["*"].append(case.handling_seconds)
    return {name: statistics.median(values) for name, values in by_category.items()}


def _scenario(history: History, policy_name: str, lease: float) -> Scenario:
    """Return the frame of the run: its start, length, lease. The streams and roster groups only
    describe the period; the run takes its arrivals and team from the history itself."""
    hours = max((history.until - history.since).total_seconds() / 3600, 1 / 3600)
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for case in history.cases:
        counts[(case.source, case.category, case.language)] += 1
    streams = [
        {
            "source": source,
            "category": category,
            "language": language,
            "rate_per_hour": count / hours,
            "basis": f"recorded: {count} cases",
        }
        for (source, category, language), count in sorted(counts.items())
    ] or [
        {
            "source": "user",
            "category": "other",
            "language": "und",
            "rate_per_hour": 0,
            "basis": "recorded: no case",
        }
    ]
    return Scenario.model_validate(
        {
            "name": f"replay {history.since.isoformat()} to {history.until.isoformat()}",
            "seed": 0,
            "start": history.since,
            "duration": f"{max(hours * 3600, 1):.3f}s",
            "drain": f"{(history.through - history.until).total_seconds() + 3600:.3f}s",
            "policy": policy_name,
            "claim_lease": f"{lease:.0f}s",
            "arrivals": streams,
            "roster": [
                {"name": f"recorded-{n}", "count": 1, "languages": ["und"]}
                for n in range(max(len(history.reviewers), 1))
            ],
            "handling": {"default": {"median": "1s", "p90": "1s", "basis": "recorded: per case"}},
        }
    )


def _team(history: History, policy: Policy) -> tuple[Reviewer, ...]:
    team = []
    for number, recorded in enumerate(history.reviewers):
        team.append(_reviewer(number, recorded, history.since, policy))
    return tuple(team)


def _reviewer(number: int, recorded: RecordedReviewer, since: datetime, policy: Policy) -> Reviewer:
    skills = Skills(
        principal_id=recorded.principal_id,
        role=recorded.role,
        languages=frozenset(recorded.languages),
        clearances=frozenset(recorded.clearances),
    )
    stretches = tuple(
        ((begins - since).total_seconds(), (ends - since).total_seconds())
        for begins, ends in recorded.active
    )
    return Reviewer(
        number=number,
        group=f"recorded-{number}",
        skills=skills,
        seen=visibility.visibility_of(skills, policy),
        primary_language=recorded.languages[0] if recorded.languages else "und",
        duty=Windows(stretches),
    )


def _arrivals(history: History) -> list[Arrival]:
    medians = _handling(history.cases)
    arrivals = []
    for number, case in enumerate(history.cases):
        handling = case.handling_seconds
        if handling is None:
            handling = medians.get(case.category, medians.get("*", FALLBACK_HANDLING))
        arrivals.append(
            Arrival(
                number=number,
                stream=0,
                at=(case.received_at - history.since).total_seconds(),
                source=case.source,
                category=case.category,
                language=case.language,
                audience=None,
                signal=0.0,
                handling=max(handling, 0.0),
                abandoned=False,
                recorded=Recorded(
                    queue=case.queue,
                    deadline=case.deadline,
                    near_at=case.near_at,
                    rank_at=case.rank_at,
                    head_start_minutes=case.head_start_minutes,
                ),
            )
        )
    return arrivals


def _recorded_times(history: History) -> dict[tuple[str, str], list[float]]:
    times: dict[tuple[str, str], list[float]] = defaultdict(list)
    for case in history.cases:
        waited = (
            math.inf
            if case.decided_at is None
            else (case.decided_at - case.received_at).total_seconds()
        )
        times[(case.source, case.category)].append(waited)
    return times


def replay(
    *, history: History, policy: Policy, lease_seconds: float, policy_name: str = "default"
) -> Replay:
    """Replay the recorded arrivals with their handling times and the recorded roster under
    Tanggap's order; compare the predicted p50/p95 per source and category with the recorded."""
    scenario = _scenario(history, policy_name, lease_seconds)
    result = run(
        scenario=scenario,
        policy=policy,
        team=_team(history, policy),
        arrivals=_arrivals(history),
        discipline="tanggap",
    )
    predicted: dict[tuple[str, str], list[float]] = defaultdict(list)
    for case in result.cases:
        waited = math.inf if case.decided_at is None else case.decided_at - case.arrival.at
        predicted[(case.arrival.source, case.arrival.category)].append(waited)
    rows = []
    for key, recorded in sorted(_recorded_times(history).items()):
        rows.append(
            ReplayRow(
                source=key[0],
                category=key[1],
                cases=len(recorded),
                recorded_p50=figures.percentile(recorded, 0.50),
                recorded_p95=figures.percentile(recorded, 0.95),
                predicted_p50=figures.percentile(predicted[key], 0.50),
                predicted_p95=figures.percentile(predicted[key], 0.95),
            )
        )
    return Replay(
        since=history.since,
        until=history.until,
        cases=len(history.cases),
        reviewers=len(history.reviewers),
        rows=rows,
    )
