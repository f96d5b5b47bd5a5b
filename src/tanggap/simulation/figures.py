"""The figures of a run: times to action per source and category against their clocks, the
share within deadline, the backlog, the reviewers' utilisation, and the scenario's targets."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from tanggap.policy.schemas import Policy
from tanggap.policy.service import find_category
from tanggap.simulation.engine import RunResult
from tanggap.simulation.queues import SimCase
from tanggap.simulation.scenario import Scenario, Target
from tanggap.simulation.team import Reviewer

HOUR = 3600.0


def percentile(values: Sequence[float], share: float) -> float:
    """Return the nearest-rank percentile of ``values`` (infinite when it falls on a case never
    decided; NaN when there are none)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def _hours(seconds: float) -> float | None:
    return None if math.isinf(seconds) or math.isnan(seconds) else round(seconds / HOUR, 4)


@dataclass(frozen=True)
class GroupFigures:
    """Time to action of the cases of one source and category (hours; None: never reached)."""

    source: str
    category: str
    deadline_class: str
    clock_hours: float
    cases: int
    undecided: int
    p50_hours: float | None
    p95_hours: float | None
    p99_hours: float | None
    share_within: float
    escalated: int
    breached: int


def _measured(result: RunResult, scenario: Scenario) -> list[SimCase]:
    return [c for c in result.cases if c.arrival.at >= scenario.warmup]


def _time_to_action(case: SimCase) -> float:
    return math.inf if case.decided_at is None else case.decided_at - case.arrival.at


def groups(result: RunResult, scenario: Scenario, policy: Policy) -> list[GroupFigures]:
    """Return the figures per source and category, most urgent clock first."""
    by_group: dict[tuple[str, str], list[SimCase]] = defaultdict(list)
    for case in _measured(result, scenario):
        by_group[(case.arrival.source, case.arrival.category)].append(case)
    figures = []
    for (source, category), cases in by_group.items():
        times = [_time_to_action(c) for c in cases]
        clock = (cases[0].deadline - cases[0].opened_at).total_seconds()
        found = find_category(policy, category)
        within = sum(1 for c, t in zip(cases, times, strict=True) if t <= clock)
        figures.append(
            GroupFigures(
                source=source,
                category=category,
                deadline_class=found.deadline_class if found else "",
                clock_hours=clock / HOUR,
                cases=len(cases),
                undecided=sum(1 for t in times if math.isinf(t)),
                p50_hours=_hours(percentile(times, 0.50)),
                p95_hours=_hours(percentile(times, 0.95)),
                p99_hours=_hours(percentile(times, 0.99)),
                share_within=round(within / len(cases), 4),
                escalated=sum(1 for c in cases if c.escalated_at is not None),
                breached=sum(1 for c in cases if c.breached_at is not None),
            )
        )
    return sorted(figures, key=lambda g: (g.clock_hours, g.source, g.category))


def utilisation(
    result: RunResult, team: Iterable[Reviewer], scenario: Scenario
) -> dict[str, float]:
    """Return, per roster group, the share of its time on duty spent on cases while cases
    arrive (work finished after the end of a shift counts too, so it may pass 1)."""
    busy: dict[str, float] = defaultdict(float)
    on_duty: dict[str, float] = defaultdict(float)
    for reviewer in team:
        busy[reviewer.group] += result.busy[reviewer.number]
        on_duty[reviewer.group] += reviewer.duty.seconds_on(0.0, scenario.duration)
    return {g: round(busy[g] / on_duty[g], 4) if on_duty[g] else 0.0 for g in busy}


@dataclass(frozen=True)
class Verdict:
    """Whether a target holds, with the figures it was judged on."""

    name: str
    holds: bool
    cases: int
    p95_hours: float | None
    fifo_p95_hours: float | None
    fifo_ratio: float | None
    share_within: float
    reasons: list[str]


def _select(cases: list[SimCase], target: Target, policy: Policy) -> list[SimCase]:
    chosen = []
    for case in cases:
        category = find_category(policy, case.arrival.category)
        if target.source and case.arrival.source != target.source:
            continue
        if target.category and case.arrival.category != target.category:
            continue
        clock = (case.deadline - case.opened_at).total_seconds()
        if target.clock is not None and abs(clock - target.clock) > 1:
            continue
        if target.deadline_class and (
            category is None or category.deadline_class != target.deadline_class
        ):
            continue
        chosen.append(case)
    return chosen


def verdict(
    target: Target, runs: dict[str, RunResult], scenario: Scenario, policy: Policy
) -> Verdict:
    """Judge one target on the Tanggap run (and, for a ratio, against the FIFO run)."""
    cases = _select(_measured(runs["tanggap"], scenario), target, policy)
    times = [_time_to_action(c) for c in cases]
    p95 = percentile(times, 0.95)
    within = sum(
        1
        for c, t in zip(cases, times, strict=True)
        if t <= (c.deadline - c.opened_at).total_seconds()
    )
    share = within / len(cases) if cases else math.nan
    reasons = []
    if not cases:
        reasons.append("no case of this kind arrived")
    if target.p95_at_most is not None and not p95 <= target.p95_at_most:
        reasons.append(f"p95 {_text(p95)} is over {_text(target.p95_at_most)}")
    if target.share_within_at_least is not None and not share >= target.share_within_at_least:
        reasons.append(f"{share:.1%} within deadline, under {target.share_within_at_least:.0%}")
    fifo_p95 = ratio = None
    if target.fifo_p95_ratio_at_least is not None:
        fifo_times = [
            _time_to_action(c) for c in _select(_measured(runs["fifo"], scenario), target, policy)
        ]
        fifo = percentile(fifo_times, 0.95)
        fifo_p95 = _hours(fifo)
        ratio_value = fifo / p95 if p95 > 0 else math.inf
        ratio = (
            None if math.isinf(ratio_value) or math.isnan(ratio_value) else round(ratio_value, 2)
        )
        if not ratio_value >= target.fifo_p95_ratio_at_least:
            reasons.append(
                f"p95 only {ratio_value:.1f}x better than FIFO's {_text(fifo)}, "
                f"under {target.fifo_p95_ratio_at_least:g}x"
            )
    return Verdict(
        name=target.name,
        holds=not reasons,
        cases=len(cases),
        p95_hours=_hours(p95),
        fifo_p95_hours=fifo_p95,
        fifo_ratio=ratio,
        share_within=round(share, 4) if cases else 0.0,
        reasons=reasons,
    )


def _text(seconds: float) -> str:
    if math.isinf(seconds):
        return "never (undecided cases)"
    if seconds < HOUR:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / HOUR:.2f} h"


def summary(
    runs: dict[str, RunResult], scenario: Scenario, policy: Policy, team: Sequence[Reviewer]
) -> dict[str, Any]:
    """Return every figure of the runs as plain data (the JSON report)."""
    return {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "duration_hours": scenario.duration / HOUR,
        "roster": {g.name: g.count for g in scenario.roster},
        "runs": {
            name: {
                "cases": len(run.cases),
                "decided": sum(1 for c in run.cases if c.decided_at is not None),
                "walkaways": run.walkaways,
                "escalations": run.escalations,
                "breaches": run.breaches,
                "groups": [asdict(g) for g in groups(run, scenario, policy)],
                "utilisation": utilisation(run, team, scenario),
                "backlog": [[round(t / HOUR, 3), n] for t, n in run.backlog],
            }
            for name, run in runs.items()
        },
        "targets": [asdict(verdict(t, runs, scenario, policy)) for t in scenario.targets],
    }
