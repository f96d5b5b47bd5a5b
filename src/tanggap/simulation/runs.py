"""One simulation from a checked scenario: the same draw of cases under every discipline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tanggap.simulation import figures
from tanggap.simulation.arrivals import draw
from tanggap.simulation.engine import RunResult, run
from tanggap.simulation.loading import LoadedScenario
from tanggap.simulation.scenario import DISCIPLINES

# Told the discipline under way and how far through its run it is (0 to 1).
Progress = Callable[[str, float], None]


def simulate(
    loaded: LoadedScenario, progress: Progress | None = None
) -> tuple[dict[str, RunResult], dict[str, Any]]:
    """Run FIFO, FIFO per language and Tanggap's order over one draw; return the runs and
    their figures."""
    scenario, policy, team = loaded.scenario, loaded.policy, loaded.team
    arrivals = draw(scenario)
    runs: dict[str, RunResult] = {}
    for discipline in DISCIPLINES:

        def tell(share: float, name: str = discipline) -> None:
            if progress is not None:
                progress(name, share)

        runs[discipline] = run(
            scenario=scenario,
            policy=policy,
            team=team,
            arrivals=arrivals,
            discipline=discipline,
            progress=tell,
        )
    return runs, figures.summary(runs, scenario, policy, team)
