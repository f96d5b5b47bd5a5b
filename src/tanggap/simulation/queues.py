"""The waiting cases of one queue and the order each discipline hands them out in.

``tanggap`` is the real order (``cases.priority``: band, then rank time, then the time the case
opened); ``fifo`` hands out the oldest case a reviewer may take; ``fifo_per_language`` the oldest
of the reviewer's first language, and only when that is empty the oldest of the others.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from tanggap.cases import priority
from tanggap.cases.states import OPEN, CaseState
from tanggap.simulation.arrivals import Arrival
from tanggap.simulation.scenario import Discipline

BucketKey = tuple[str, str, str]  # queue, language, category


@dataclass(eq=False)
class SimCase:
    """A case in the simulation, carrying what the real triage scored."""

    arrival: Arrival
    opened_at: datetime
    deadline: datetime
    scored: priority.Priority
    queue: str
    state: CaseState = OPEN
    band: int = priority.LATER
    entry: int = 0  # bumped at each return to the queue: older heap entries are stale
    lease_expires_at: datetime | None = None
    escalated_at: datetime | None = None
    breached_at: datetime | None = None
    decided_at: float | None = None
    walked_away: bool = False
    history: list[str] = field(default_factory=list)

    @property
    def bucket(self) -> BucketKey:
        """Return the queue, language and category the case waits under."""
        return (self.queue, self.arrival.language, self.arrival.category)


class Bucket(Protocol):
    """The open cases of one queue, language and category."""

    def push(self, case: SimCase, now: datetime) -> None:
        """Put a case (back) in the queue."""

    def head(self, now: datetime) -> SimCase | None:
        """Return the case this queue would hand out first, or None."""


class FifoBucket:
    """Cases in the order they opened."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, int, SimCase]] = []

    def push(self, case: SimCase, now: datetime) -> None:
        """Put a case (back) in the queue."""
        case.entry += 1
        heapq.heappush(self._heap, (case.opened_at, case.arrival.number, case.entry, case))

    def head(self, now: datetime) -> SimCase | None:
        """Return the oldest open case, or None."""
        while self._heap:
            _, _, entry, case = self._heap[0]
            if case.state == OPEN and entry == case.entry:
                return case
            heapq.heappop(self._heap)
        return None


class BandedBucket:
    """Cases in Tanggap's order: a heap by rank time per band, and the moments each case moves
    to a more urgent band (its near-deadline point, its deadline), applied as time passes."""

    def __init__(self) -> None:
        self._ranked: dict[int, list[tuple[datetime, datetime, int, int, SimCase]]] = {
            priority.OVERDUE: [],
            priority.NEAR: [],
            priority.LATER: [],
        }
        self._moves: list[tuple[datetime, int, int, SimCase]] = []

    def push(self, case: SimCase, now: datetime) -> None:
        """Put a case (back) in the queue, in the band it is in ``now``."""
        case.entry += 1
        self._place(case, now)

    def _place(self, case: SimCase, now: datetime) -> None:
        case.band = priority.band(now=now, deadline=case.deadline, near_at=case.scored.near_at)
        entry = (case.scored.rank_at, case.opened_at, case.arrival.number, case.entry, case)
        heapq.heappush(self._ranked[case.band], entry)
        if case.band == priority.LATER:
            move = (case.scored.near_at, case.arrival.number, case.entry, case)
            heapq.heappush(self._moves, move)
        elif case.band == priority.NEAR:
            heapq.heappush(self._moves, (case.deadline, case.arrival.number, case.entry, case))

    def head(self, now: datetime) -> SimCase | None:
        """Return the case first in Tanggap's order ``now``, or None."""
        while self._moves and self._moves[0][0] <= now:
            _, _, entry, case = heapq.heappop(self._moves)
            if case.state == OPEN and entry == case.entry:
                self._place(case, now)
        for band in (priority.OVERDUE, priority.NEAR, priority.LATER):
            heap = self._ranked[band]
            while heap:
                *_, entry, case = heap[0]
                if case.state == OPEN and entry == case.entry and case.band == band:
                    return case
                heapq.heappop(heap)
        return None


def new_bucket(discipline: Discipline) -> Bucket:
    """Return an empty queue kept in the discipline's order."""
    return BandedBucket() if discipline == "tanggap" else FifoBucket()


def sort_key(discipline: Discipline, case: SimCase, now: datetime) -> tuple[object, ...]:
    """Return the key that orders the heads of several queues under the discipline."""
    if discipline == "tanggap":
        return (
            *priority.order_key(
                now=now,
                deadline=case.deadline,
                near_at=case.scored.near_at,
                rank_at=case.scored.rank_at,
                opened_at=case.opened_at,
            ),
            case.arrival.number,
        )
    return (case.opened_at, case.arrival.number)


def preference(
    discipline: Discipline, admissible: list[BucketKey], primary_language: str
) -> list[list[BucketKey]]:
    """Return the queues a reviewer looks at, in groups: the first group with a case wins."""
    if discipline != "fifo_per_language":
        return [admissible]
    own = [key for key in admissible if key[1] == primary_language]
    others = [key for key in admissible if key[1] != primary_language]
    return [group for group in (own, others) if group]
