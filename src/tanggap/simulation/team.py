"""The reviewers of a scenario: real skills and visibility, and when each is on duty."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from tanggap.cases import visibility
from tanggap.policy.schemas import Policy
from tanggap.reviewers.schemas import Skills
from tanggap.simulation.scenario import RosterGroup, Scenario, Shift, Stream

DAY = 86400.0


class OnDuty(Protocol):
    """When a reviewer works, in seconds after the scenario's start."""

    def on(self, now: float) -> bool:
        """Tell whether the reviewer is on duty ``now``."""

    def until_on(self, now: float) -> float:
        """Return how long until the reviewer is next on duty (zero when on duty)."""

    def until_off(self, now: float) -> float:
        """Return how long the stretch on duty under way lasts."""

    def seconds_on(self, start: float, end: float) -> float:
        """Return the seconds on duty between ``start`` and ``end``."""


@dataclass(frozen=True)
class Duty:
    """A daily shift as seconds after local midnight (none: always on duty)."""

    shift: Shift | None

    def on(self, now: float) -> bool:
        """Tell whether the reviewer is on duty ``now`` seconds after the scenario's start."""
        if self.shift is None:
            return True
        into = (now - self.shift.start) % DAY
        return into < self.shift.length

    def until_on(self, now: float) -> float:
        """Return how long until the next shift starts (zero when on duty)."""
        if self.shift is None or self.on(now):
            return 0.0
        return (self.shift.start - now) % DAY

    def until_off(self, now: float) -> float:
        """Return how long the shift under way lasts (infinite when always on duty)."""
        if self.shift is None:
            return math.inf
        return self.shift.length - (now - self.shift.start) % DAY

    def seconds_on(self, start: float, end: float) -> float:
        """Return the seconds on duty between ``start`` and ``end``."""
        if self.shift is None:
            return max(end - start, 0.0)
        total = 0.0
        first = math.floor((start - self.shift.start) / DAY) - 1
        day = first
        while True:
            begins = self.shift.start + day * DAY
            if begins >= end:
                return total
            total += max(0.0, min(end, begins + self.shift.length) - max(start, begins))
            day += 1


@dataclass(frozen=True)
class Reviewer:
    """One member of the team, with the skills the real code weighs."""

    number: int
    group: str
    skills: Skills
    seen: visibility.Visibility
    primary_language: str
    duty: OnDuty

    def may_take(self, *, language: str, category: str, queue: str) -> bool:
        """Tell whether the real visibility rules let this reviewer take such a case."""
        return visibility.sees(
            self.seen, language=language, category=category, queue=queue, lead_only=False
        )


def team_of(
    scenario: Scenario, policy: Policy, counts: dict[str, int] | None = None
) -> tuple[Reviewer, ...]:
    """Return the scenario's reviewers, one per head of each roster group (``counts`` overrides
    the groups' sizes, for the planner)."""
    team: list[Reviewer] = []
    for group in scenario.roster:
        for _ in range(counts.get(group.name, group.count) if counts else group.count):
            team.append(_reviewer(len(team), group, policy))
    return tuple(team)


def _reviewer(number: int, group: RosterGroup, policy: Policy) -> Reviewer:
    skills = Skills(
        principal_id=uuid.UUID(int=number + 1),
        role=group.role,
        languages=frozenset(group.languages),
        clearances=frozenset(group.clearances),
    )
    return Reviewer(
        number=number,
        group=group.name,
        skills=skills,
        seen=visibility.visibility_of(skills, policy),
        primary_language=group.languages[0],
        duty=Duty(group.shift),
    )


def languages_read(team: Iterable[Reviewer]) -> frozenset[str]:
    """Return every language some member of the team reads (what triage routes by)."""
    return frozenset(lang for reviewer in team for lang in reviewer.skills.languages)


def unserved_queue(stream: Stream, team: tuple[Reviewer, ...]) -> str | None:
    """Return the queue the stream's cases go to when nobody on the team may take them (no
    reviewer reads the language, no lead watches the fallback queue, nobody holds the category's
    clearance); None when someone may, or when the stream never arrives."""
    queue = visibility.queue_for(
        language=stream.language, category=stream.category, languages_read=languages_read(team)
    )
    if stream.rate_per_hour == 0 or any(
        r.may_take(language=stream.language, category=stream.category, queue=queue) for r in team
    ):
        return None
    return queue
