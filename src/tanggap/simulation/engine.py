"""The discrete-event model (SimPy): cases arrive and are triaged by the real code, reviewers on
shift claim them under a lease in a discipline's order, and the deadline watch runs its real
checks on a fixed round."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import simpy

from tanggap.cases import priority, visibility, watch
from tanggap.cases.states import DECIDED, IN_REVIEW, OPEN
from tanggap.policy.schemas import OrderType, Policy
from tanggap.policy.schemas import Source as ReportSource
from tanggap.policy.service import compute_deadline, find_category
from tanggap.simulation.arrivals import Arrival
from tanggap.simulation.queues import (
    Bucket,
    BucketKey,
    SimCase,
    new_bucket,
    preference,
    sort_key,
)
from tanggap.simulation.scenario import Discipline, Scenario
from tanggap.simulation.team import Reviewer, languages_read

Progress = Callable[[float], None]
Process = Generator[simpy.Event, object, None]
# A reviewer who walks away leaves the case claimed; it is free again once the lease has run out,
# that is strictly after lease_expires_at (cases.watch.lease_lapsed): a millisecond later.
AFTER = 0.001


@dataclass
class RunResult:
    """What one discipline's run produced: every case, the backlog, each reviewer's busy time."""

    discipline: Discipline
    cases: list[SimCase]
    backlog: list[tuple[float, int]]
    busy: dict[int, float]
    end: float
    walkaways: int = 0
    escalations: int = 0
    breaches: int = 0


def triage(arrival: Arrival, scenario: Scenario, policy: Policy, read: frozenset[str]) -> SimCase:
    """Open a case for ``arrival`` the way triage does: its deadline from the policy, its queue
    by language, its priority from the real formula (a recorded case keeps what the real triage
    gave it)."""
    opened_at = scenario.at(arrival.at)
    if arrival.recorded is not None:
        kept = arrival.recorded
        return SimCase(
            arrival=arrival,
            opened_at=opened_at,
            deadline=kept.deadline,
            scored=priority.Priority(
                head_start_minutes=kept.head_start_minutes,
                factors=(),
                near_at=kept.near_at,
                rank_at=kept.rank_at,
            ),
            queue=kept.queue,
        )
    # A removal order is a flagger's (an authority's) report of the order type removal_order.
    report_source: ReportSource = "flagger" if arrival.source == "removal_order" else arrival.source
    order_type: OrderType = "removal_order" if arrival.source == "removal_order" else "notice"
    deadline = compute_deadline(
        policy=policy,
        received_at=opened_at,
        source=report_source,
        order_type=order_type,
        category_id=arrival.category,
    )
    category = find_category(policy, arrival.category)
    inputs = priority.TriageInputs(
        clock_started_at=opened_at,
        deadline=deadline,
        severity=category.severity if category else 1,
        subscribers=arrival.audience,
        views=None,
        source=priority.strongest_source([(report_source, order_type)]),
        report_count=1,
        signal_score=arrival.signal,
    )
    return SimCase(
        arrival=arrival,
        opened_at=opened_at,
        deadline=deadline,
        scored=priority.prioritise(inputs, policy.triage),
        queue=visibility.queue_for(
            language=arrival.language, category=arrival.category, languages_read=read
        ),
    )


@dataclass
class _Model:
    env: simpy.Environment
    scenario: Scenario
    discipline: Discipline
    team: tuple[Reviewer, ...]
    end: float
    buckets: dict[BucketKey, Bucket] = field(default_factory=dict)
    looks: dict[int, list[list[BucketKey]]] = field(default_factory=dict)
    idle: dict[int, simpy.Event] = field(default_factory=dict)
    waiting: int = 0
    result: RunResult | None = None

    def now(self) -> datetime:
        return self.scenario.at(self.env.now)

    def enqueue(self, case: SimCase) -> None:
        case.state = OPEN
        self.buckets[case.bucket].push(case, self.now())
        for number, wake in list(self.idle.items()):
            reviewer = self.team[number]
            if reviewer.duty.on(self.env.now) and any(
                case.bucket in group for group in self.looks[number]
            ):
                del self.idle[number]
                wake.succeed()
                return

    def pick(self, reviewer: Reviewer) -> SimCase | None:
        now = self.now()
        for group in self.looks[reviewer.number]:
            heads = [c for c in (self.buckets[key].head(now) for key in group) if c is not None]
            if heads:
                return min(heads, key=lambda c: sort_key(self.discipline, c, now))
        return None


def run(
    *,
    scenario: Scenario,
    policy: Policy,
    team: tuple[Reviewer, ...],
    arrivals: list[Arrival],
    discipline: Discipline,
    progress: Progress | None = None,
) -> RunResult:
    """Run one discipline over the drawn arrivals and return what happened to every case."""
    env = simpy.Environment()
    end = scenario.duration + scenario.drain
    model = _Model(env, scenario, discipline, team, end)
    read = languages_read(team)
    cases = [triage(arrival, scenario, policy, read) for arrival in arrivals]
    for key in {case.bucket for case in cases}:
        model.buckets[key] = new_bucket(discipline)
    for reviewer in team:
        admissible = sorted(
            key
            for key in model.buckets
            if reviewer.may_take(queue=key[0], language=key[1], category=key[2])
        )
        model.looks[reviewer.number] = preference(discipline, admissible, reviewer.primary_language)
    result = RunResult(discipline, cases, [], {r.number: 0.0 for r in team}, end)
    model.result = result
    env.process(_arrive(model, cases))
    for reviewer in team:
        env.process(_review(model, reviewer))
    env.process(_sample(model))
    if progress is not None:
        env.process(_report_progress(model, progress))
    env.run(until=end)
    return result


def _arrive(model: _Model, cases: list[SimCase]) -> Process:
    for case in cases:
        yield model.env.timeout(case.arrival.at - model.env.now)
        model.waiting += 1
        model.env.process(_watch(model, case))
        model.enqueue(case)


def _review(model: _Model, reviewer: Reviewer) -> Process:
    env, result = model.env, model.result
    assert result is not None
    lease = timedelta(seconds=model.scenario.claim_lease)
    while True:
        off = reviewer.duty.until_on(env.now)
        if off > 0:
            yield env.timeout(off)
            continue
        case = model.pick(reviewer)
        if case is None:
            wake = env.event()
            model.idle[reviewer.number] = wake
            shift_left = reviewer.duty.until_off(env.now)
            if math.isinf(shift_left):
                yield wake
            else:
                # At the end of the shift the reviewer leaves; at the next one they look again.
                yield wake | env.timeout(shift_left)
                model.idle.pop(reviewer.number, None)
            continue
        case.state = IN_REVIEW
        case.lease_expires_at = model.now() + lease
        started = env.now
        if case.arrival.abandoned and not case.walked_away:
            case.walked_away = True
            result.walkaways += 1
            yield env.timeout(case.arrival.handling / 2)
            case.lease_expires_at = model.now() + lease
            env.process(_lapse(model, case))
        else:
            yield env.timeout(case.arrival.handling)
            case.state = DECIDED
            case.decided_at = env.now
            model.waiting -= 1
        # Utilisation is measured while cases arrive, not over the drain that follows.
        horizon = model.scenario.duration
        result.busy[reviewer.number] += max(min(env.now, horizon) - min(started, horizon), 0.0)


def _lapse(model: _Model, case: SimCase) -> Process:
    yield model.env.timeout(model.scenario.claim_lease + AFTER)
    if watch.lease_lapsed(
        state=case.state, lease_expires_at=case.lease_expires_at, now=model.now()
    ):
        model.enqueue(case)


def _round(model: _Model, moment: datetime) -> float:
    """Return the first round of the deadline watch at or after ``moment``."""
    interval = model.scenario.watch_interval
    seconds = (moment - model.scenario.start).total_seconds()
    return math.ceil(seconds / interval - 1e-9) * interval


def _watch(model: _Model, case: SimCase) -> Process:
    env, result = model.env, model.result
    assert result is not None
    yield env.timeout(max(_round(model, case.scored.near_at) - env.now, 0.0))
    if watch.escalation_due(
        state=case.state,
        near_at=case.scored.near_at,
        escalated_at=case.escalated_at,
        now=model.now(),
    ):
        case.escalated_at = model.now()
        result.escalations += 1
    if case.state == DECIDED:
        return
    yield env.timeout(max(_round(model, case.deadline) - env.now, 0.0))
    if watch.breach_due(
        state=case.state, deadline=case.deadline, breached_at=case.breached_at, now=model.now()
    ):
        case.breached_at = model.now()
        result.breaches += 1


def _sample(model: _Model) -> Process:
    assert model.result is not None
    while True:
        model.result.backlog.append((model.env.now, model.waiting))
        yield model.env.timeout(model.scenario.sample_every)


def _report_progress(model: _Model, progress: Progress) -> Process:
    step = max(model.end / 100, 1.0)
    while True:
        progress(min(model.env.now / model.end, 1.0))
        yield model.env.timeout(step)
