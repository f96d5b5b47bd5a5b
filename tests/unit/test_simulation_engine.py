"""The simulator over hand-built arrivals: exact times to action, the real priority order, the
baselines, leases and escalations (docs/simulation.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tanggap.policy.schemas import Policy
from tanggap.simulation.arrivals import Arrival
from tanggap.simulation.engine import RunResult, run
from tanggap.simulation.loading import LoadedScenario, load_scenario
from tanggap.simulation.scenario import Discipline, Source

MINUTE = 60.0
ONE_REVIEWER = """
name: hand-computed
seed: 1
start: 2026-01-05T00:00:00+07:00
duration: 1d
drain: 1d
arrivals:
  - {source: user, category: fraud, language: en, rate_per_hour: 1, basis: "assumption: test"}
roster:
  - {name: solo, count: 1, languages: [en, id]}
handling:
  default: {median: 10m, p90: 10m, basis: "assumption: fixed ten minutes"}
"""


@pytest.fixture
def loaded(tmp_path: Path) -> LoadedScenario:
    """One reviewer reading English then Indonesian, always on duty, ten minutes a case."""
    path = tmp_path / "scenario.yaml"
    path.write_text(ONE_REVIEWER, encoding="utf-8")
    return load_scenario(path)


def arrival(
    number: int,
    minute: float,
    source: Source,
    category: str,
    language: str = "en",
    *,
    audience: int | None = None,
    abandoned: bool = False,
) -> Arrival:
    """A case arriving ``minute`` minutes after the start, ten minutes' work."""
    return Arrival(
        number=number,
        stream=0,
        at=minute * MINUTE,
        source=source,
        category=category,
        language=language,
        audience=audience,
        signal=0.0,
        handling=10 * MINUTE,
        abandoned=abandoned,
    )


def simulate(
    loaded: LoadedScenario,
    arrivals: list[Arrival],
    discipline: Discipline = "tanggap",
    policy: Policy | None = None,
) -> RunResult:
    """Run one discipline over ``arrivals``."""
    return run(
        scenario=loaded.scenario,
        policy=policy or loaded.policy,
        team=loaded.team,
        arrivals=arrivals,
        discipline=discipline,
    )


def decided_minutes(result: RunResult) -> dict[int, float]:
    """Return each case's time to action in minutes, by arrival number."""
    return {
        c.arrival.number: round((c.decided_at - c.arrival.at) / MINUTE, 6)
        for c in result.cases
        if c.decided_at is not None
    }


def order(result: RunResult) -> list[int]:
    """Return the arrival numbers in the order they were decided."""
    decided = [c for c in result.cases if c.decided_at is not None]
    return [c.arrival.number for c in sorted(decided, key=lambda c: c.decided_at or 0)]


def test_one_reviewer_fixed_handling_gives_exact_times_to_action(loaded: LoadedScenario) -> None:
    arrivals = [
        arrival(0, 0, "user", "fraud"),
        arrival(1, 1, "user", "fraud"),
        arrival(2, 2, "user", "fraud"),
        arrival(3, 45, "user", "fraud"),
    ]
    result = simulate(loaded, arrivals, "fifo")
    # Decided at 10, 20, 30 and (the reviewer idle since 30) 55 minutes.
    assert decided_minutes(result) == {0: 10.0, 1: 19.0, 2: 28.0, 3: 10.0}
    assert result.busy[0] == 40 * MINUTE


def test_a_removal_order_overtakes_the_queue_under_tanggap_and_waits_under_fifo(
    loaded: LoadedScenario,
) -> None:
    arrivals = [
        arrival(0, 0, "user", "fraud"),
        arrival(1, 1, "user", "fraud"),
        arrival(2, 2, "user", "fraud"),
        arrival(3, 3, "removal_order", "terrorism"),
    ]
    assert decided_minutes(simulate(loaded, arrivals, "fifo"))[3] == 37.0
    tanggap = simulate(loaded, arrivals, "tanggap")
    assert decided_minutes(tanggap) == {0: 10.0, 3: 17.0, 1: 29.0, 2: 38.0}


def test_the_three_disciplines_hand_out_cases_in_their_own_orders(loaded: LoadedScenario) -> None:
    arrivals = [
        arrival(0, 0, "user", "other"),  # keeps the reviewer busy while the others arrive
        arrival(1, 1, "user", "fraud", "id"),
        arrival(2, 2, "user", "fraud", "en"),
        arrival(3, 3, "removal_order", "terrorism", "id"),
    ]
    assert order(simulate(loaded, arrivals, "fifo")) == [0, 1, 2, 3]
    # The reviewer's first language is English: its queue first, then the oldest of the others.
    assert order(simulate(loaded, arrivals, "fifo_per_language")) == [0, 2, 1, 3]
    # The removal order first; between the two fraud reports, the earlier deadline.
    assert order(simulate(loaded, arrivals, "tanggap")) == [0, 3, 1, 2]


def test_the_order_follows_the_policy_weights(loaded: LoadedScenario) -> None:
    arrivals = [
        arrival(0, 0, "user", "other"),
        # Drugs (severity 8) on a channel of ten million: 96 + 60 minutes of head start.
        arrival(1, 1, "user", "drugs", audience=10_000_000),
        # Terrorism (severity 10) on a small channel, a minute later: 120 minutes.
        arrival(2, 2, "user", "terrorism", audience=100),
    ]
    assert order(simulate(loaded, arrivals)) == [0, 1, 2]
    policy = loaded.policy
    weights = policy.triage.weights.model_copy(update={"reach": 0.0})
    no_reach = policy.model_copy(
        update={"triage": policy.triage.model_copy(update={"weights": weights})}
    )
    assert order(simulate(loaded, arrivals, policy=no_reach)) == [0, 2, 1]


def test_a_claim_walked_away_from_returns_once_its_lease_has_run_out(
    loaded: LoadedScenario,
) -> None:
    result = simulate(loaded, [arrival(0, 0, "user", "fraud", abandoned=True)])
    # Left after five minutes, free strictly after the ten-minute lease, then ten minutes' work.
    assert decided_minutes(result) == {0: pytest.approx(25.0 + 0.001 / MINUTE)}
    assert result.walkaways == 1


def test_a_case_past_its_near_deadline_point_is_escalated_at_the_watch_round(
    loaded: LoadedScenario,
) -> None:
    # Eight removal orders at 0:12: decided at 10:12, 20:12, ... 80:12. The watch runs every 15 s:
    # its round at 45:15 escalates the four still undecided (45 minutes is 75 % of the hour), its
    # round at 60:15 records the breach of the two decided after 60:12.
    arrivals = [arrival(n, 0.2, "removal_order", "terrorism") for n in range(8)]
    result = simulate(loaded, arrivals)
    escalated = sorted(c.arrival.number for c in result.cases if c.escalated_at is not None)
    breached = sorted(c.arrival.number for c in result.cases if c.breached_at is not None)
    assert escalated == [4, 5, 6, 7]
    assert breached == [6, 7]
    assert (result.escalations, result.breaches) == (4, 2)
