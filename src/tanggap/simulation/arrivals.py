"""The cases of a run, drawn once from the scenario's seed: when each arrives, from which
source, and how long it will take to decide. Every discipline sees the same draw."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime

from tanggap.simulation.scenario import Scenario, Source, Spread, Stream

# The 90th percentile of a standard normal: a lognormal's p90 is median * exp(1.2816 * sigma).
Z90 = 1.2815515655446004
HOUR = 3600.0


@dataclass(frozen=True)
class Recorded:
    """What the real triage gave a case of a recorded period: its queue, deadline and the two
    times that order it (a replay uses these instead of scoring the case again)."""

    queue: str
    deadline: datetime
    near_at: datetime
    rank_at: datetime
    head_start_minutes: float


@dataclass(frozen=True)
class Arrival:
    """One case as it arrives: its stream, moment (seconds after the start), and draws."""

    number: int
    stream: int
    at: float
    source: Source
    category: str
    language: str
    audience: int | None
    signal: float
    handling: float
    abandoned: bool
    recorded: Recorded | None = None


def lognormal(rng: random.Random, median: float, p90: float) -> float:
    """Draw from the lognormal with this median and 90th percentile (equal: the median)."""
    sigma = math.log(p90 / median) / Z90
    return median if sigma == 0 else rng.lognormvariate(math.log(median), sigma)


def rate_at(scenario: Scenario, stream: Stream, at: float) -> float:
    """Return the stream's rate per second at ``at``: its daily mean shaped by its cycle (whose
    hourly weights average to one) and multiplied by every burst under way."""
    rate = stream.rate_per_hour / HOUR
    if stream.cycle != "flat":
        hours = scenario.cycles[stream.cycle]
        rate *= hours[int(at // HOUR) % 24] * 24 / sum(hours)
    for burst in stream.bursts:
        if burst.at <= at < burst.at + burst.length:
            rate *= burst.factor
    return rate


def _peak(scenario: Scenario, stream: Stream) -> float:
    peak = stream.rate_per_hour / HOUR
    if stream.cycle != "flat":
        hours = scenario.cycles[stream.cycle]
        peak *= max(hours) * 24 / sum(hours)
    for burst in stream.bursts:
        peak *= max(burst.factor, 1.0)
    return peak


def _audience(rng: random.Random, spread: Spread | None) -> int | None:
    return None if spread is None else round(lognormal(rng, spread.median, spread.p90))


def draw(scenario: Scenario) -> list[Arrival]:
    """Draw every case of the scenario, in order of arrival (a non-homogeneous Poisson process
    per stream, by thinning; each stream its own seeded generator)."""
    drawn: list[tuple[float, int, Stream, random.Random]] = []
    for index, stream in enumerate(scenario.arrivals):
        rng = random.Random(f"{scenario.seed}:{index}")
        peak = _peak(scenario, stream)
        at = 0.0
        while peak > 0:
            at += rng.expovariate(peak)
            if at >= scenario.duration:
                break
            if rng.random() * peak < rate_at(scenario, stream, at):
                drawn.append((at, index, stream, rng))
    drawn.sort(key=lambda item: (item[0], item[1]))
    handling_rng = random.Random(f"{scenario.seed}:handling")
    arrivals = []
    for number, (at, index, stream, _) in enumerate(drawn):
        handling = scenario.handling.get(stream.category) or scenario.handling["default"]
        arrivals.append(
            Arrival(
                number=number,
                stream=index,
                at=at,
                source=stream.source,
                category=stream.category,
                language=stream.language,
                audience=_audience(handling_rng, stream.audience),
                signal=stream.signal,
                handling=lognormal(handling_rng, handling.median, handling.p90),
                abandoned=handling_rng.random() < scenario.abandon_share,
            )
        )
    return arrivals
