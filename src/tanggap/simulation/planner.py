"""The staffing planner: the smallest head count per roster group that meets every clock at the
scenario's load with room to spare (no group busier than ``plan.max_utilisation`` on duty), under
Tanggap's order, by a bounded search over the same seeded draw."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tanggap.simulation import figures
from tanggap.simulation.arrivals import Arrival, draw
from tanggap.simulation.engine import run
from tanggap.simulation.loading import LoadedScenario
from tanggap.simulation.team import team_of, unserved_queue

# Told each roster tried, and whether it met every clock.
Tried = Callable[[dict[str, int], bool], None]


@dataclass(frozen=True)
class PlanRow:
    """One roster group: as the scenario states it, and as the planner found enough."""

    group: str
    role: str
    languages: str
    clearances: str
    shift: str
    stated: int
    planned: int


@dataclass(frozen=True)
class StaffingPlan:
    """The planner's answer: the rows, whether any roster met every clock, the runs it took."""

    rows: list[PlanRow]
    met: bool
    runs: int


class _Search:
    def __init__(self, loaded: LoadedScenario, arrivals: list[Arrival], tried: Tried | None):
        self.loaded, self.arrivals, self.tried = loaded, arrivals, tried
        self.runs = 0
        self.known: dict[tuple[int, ...], bool] = {}

    def meets(self, counts: dict[str, int]) -> bool:
        key = tuple(counts[g.name] for g in self.loaded.scenario.roster)
        if key not in self.known:
            self.known[key] = self._meets(counts)
            if self.tried is not None:
                self.tried(dict(counts), self.known[key])
        return self.known[key]

    def _meets(self, counts: dict[str, int]) -> bool:
        scenario, policy = self.loaded.scenario, self.loaded.policy
        team = team_of(scenario, policy, counts)
        if any(unserved_queue(stream, team) for stream in scenario.arrivals):
            return False
        self.runs += 1
        result = run(
            scenario=scenario,
            policy=policy,
            team=team,
            arrivals=self.arrivals,
            discipline="tanggap",
        )
        wanted = scenario.plan.share_within_at_least
        clocks_met = all(
            g.share_within >= wanted and g.undecided == 0
            for g in figures.groups(result, scenario, policy)
        )
        busy = figures.utilisation(result, team, scenario).values()
        return clocks_met and all(share <= scenario.plan.max_utilisation for share in busy)


def plan(loaded: LoadedScenario, tried: Tried | None = None) -> StaffingPlan:
    """Find the smallest count per roster group that meets every clock: grow every group until
    the clocks are met (at most ``plan.max_count`` each), then lower each group in turn by
    bisection while the clocks still hold."""
    scenario = loaded.scenario
    search = _Search(loaded, draw(scenario), tried)
    ceiling = scenario.plan.max_count
    counts = {g.name: min(g.count, ceiling) for g in scenario.roster}
    while not search.meets(counts):
        if all(n >= ceiling for n in counts.values()):
            return StaffingPlan(_rows(loaded, counts), met=False, runs=search.runs)
        counts = {name: min(max(2 * n, 1), ceiling) for name, n in counts.items()}
    for group in scenario.roster:
        low, high = 0, counts[group.name]  # ``high`` meets; find the least count that does
        while low < high:
            middle = (low + high) // 2
            if search.meets({**counts, group.name: middle}):
                high = middle
            else:
                low = middle + 1
        counts[group.name] = high
    return StaffingPlan(_rows(loaded, counts), met=True, runs=search.runs)


def _rows(loaded: LoadedScenario, counts: dict[str, int]) -> list[PlanRow]:
    rows = []
    for group in loaded.scenario.roster:
        shift = "always"
        if group.shift is not None:
            start = int(group.shift.start)
            shift = f"{start // 3600:02d}:{start % 3600 // 60:02d} +{group.shift.length / 3600:g}h"
        rows.append(
            PlanRow(
                group=group.name,
                role=group.role,
                languages=",".join(group.languages),
                clearances=",".join(group.clearances) or "-",
                shift=shift,
                stated=group.count,
                planned=counts[group.name],
            )
        )
    return rows
