"""Today's answer for the current load (the leads' staffing page): a scenario built from the
database's recent arrivals and the current reviewer accounts, and the planner run on it, bounded
so that it answers within a few seconds."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Integer, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from tanggap.auth.models import Principal
from tanggap.cases.models import Case
from tanggap.policy.schemas import Policy
from tanggap.reports.models import Report
from tanggap.reviewers.models import ReviewerClearance, ReviewerLanguage
from tanggap.simulation import figures
from tanggap.simulation.arrivals import draw
from tanggap.simulation.engine import run
from tanggap.simulation.history import read_history
from tanggap.simulation.loading import Lines, LoadedScenario
from tanggap.simulation.planner import StaffingPlan, plan
from tanggap.simulation.scenario import Scenario, Stream
from tanggap.simulation.team import team_of, unserved_queue

LOOKBACK_DAYS = 7
# The shifts every skill set works when none are configured: three of eight hours, UTC.
SHIFTS = (("00:00", "night"), ("08:00", "day"), ("16:00", "evening"))
SHIFT_LENGTH = "8h"
# The bounds that keep the answer within a few seconds in the request: one simulated day (and
# half a day to finish), at most MAX_COUNT heads per group, at most MAX_CASES_A_DAY arrivals.
HORIZON = "1d"
DRAIN = "12h"
MAX_COUNT = 12
MAX_CASES_A_DAY = 1000
# The handling time assumed for a category no reviewer decided in the look-back.
ASSUMED_HANDLING = ("5m", "15m")
_SOURCES = ("removal_order", "flagger", "user", "automated")
ROLES = ("reviewer", "lead", "admin")


class TooLarge(Exception):
    """The load is too large to plan within the request."""


@dataclass(frozen=True)
class StaffingRow:
    """One skill set on one shift: heads on the current roster, heads planned, how busy."""

    group: str
    role: str
    languages: str
    clearances: str
    shift: str
    stated: int
    planned: int
    utilisation: float


@dataclass(frozen=True)
class Staffing:
    """The page's answer: what it was built from, the rows, and whether every clock is met."""

    since: datetime
    days: int
    streams: int
    cases_a_day: float
    accounts: int
    unserved: list[str]
    rows: list[StaffingRow]
    met: bool
    runs: int


def _strength() -> ColumnElement[int]:
    return sql_case(
        (Report.order_type == "removal_order", 0),
        (Report.source == "flagger", 1),
        (Report.source == "user", 2),
        else_=3,
    )


def _hour(session: Session, column: Any) -> ColumnElement[int]:
    if session.get_bind().dialect.name == "sqlite":
        return func.cast(func.strftime("%H", column), Integer)
    return func.cast(func.extract("hour", func.timezone("UTC", column)), Integer)


def recent_load(
    *, session: Session, since: datetime
) -> tuple[dict[tuple[str, str, str], int], list[int]]:
    """Return the cases opened since ``since`` per (source, category, language) (the strongest
    report's source; none: automated) and the count per hour of the day (UTC)."""
    per_case = (
        select(
            Case.id.label("case_id"),
            Case.category.label("category"),
            Case.language.label("language"),
            Case.opened_at.label("opened_at"),
            func.coalesce(func.min(_strength()), 3).label("strength"),
        )
        .outerjoin(Report, Report.case_id == Case.id)
        .where(Case.opened_at >= since)
        .group_by(Case.id, Case.category, Case.language, Case.opened_at)
        .subquery()
    )
    streams = {
        (_SOURCES[strength], category, language): count
        for strength, category, language, count in session.execute(
            select(
                per_case.c.strength, per_case.c.category, per_case.c.language, func.count()
            ).group_by(per_case.c.strength, per_case.c.category, per_case.c.language)
        )
    }
    hour = _hour(session, per_case.c.opened_at)
    hours = [0] * 24
    for at, count in session.execute(select(hour, func.count()).group_by(hour)):
        hours[int(at) % 24] += count
    return streams, hours


def _accounts(session: Session) -> dict[tuple[str, tuple[str, ...], tuple[str, ...]], int]:
    """Return the active reviewer accounts per skill set (role, languages, clearances)."""
    staff = select(Principal.id, Principal.role).where(
        Principal.role.in_(ROLES), Principal.disabled_at.is_(None)
    )
    roles = {who: role for who, role in session.execute(staff)}
    languages: dict[Any, list[str]] = defaultdict(list)
    for who, language in session.execute(
        select(ReviewerLanguage.principal_id, ReviewerLanguage.language).order_by(
            ReviewerLanguage.principal_id, ReviewerLanguage.language
        )
    ):
        languages[who].append(language)
    clearances: dict[Any, list[str]] = defaultdict(list)
    for who, category in session.execute(
        select(ReviewerClearance.principal_id, ReviewerClearance.category).order_by(
            ReviewerClearance.principal_id, ReviewerClearance.category
        )
    ):
        clearances[who].append(category)
    sets: dict[tuple[str, tuple[str, ...], tuple[str, ...]], int] = defaultdict(int)
    for who, role in roles.items():
        if languages[who]:
            sets[(role, tuple(languages[who]), tuple(clearances[who]))] += 1
    return dict(sorted(sets.items()))


def _handling(session: Session, since: datetime, now: datetime) -> dict[str, dict[str, str]]:
    """Return each category's median and p90 claim-to-decision time over the look-back."""
    history = read_history(session=session, since=since, until=now)
    times: dict[str, list[float]] = defaultdict(list)
    for case in history.cases:
        if case.handling_seconds is not None and case.handling_seconds > 0:
            times[case.category].append(case.handling_seconds)
    handling = {}
    for category, values in times.items():
        # Whole seconds, at least one: a scenario's durations are positive.
        median = max(round(statistics.median(values)), 1)
        p90 = max(round(figures.percentile(values, 0.90)), median)
        handling[category] = {
            "median": f"{median}s",
            "p90": f"{p90}s",
            "basis": f"recorded: {len(values)} decisions, claim to decision",
        }
    assumed_median, assumed_p90 = ASSUMED_HANDLING
    handling["default"] = {
        "median": assumed_median,
        "p90": assumed_p90,
        "basis": "assumption: no decision seen",
    }
    return handling


def scenario_of(
    *, session: Session, policy: Policy, now: datetime, days: int
) -> tuple[Scenario, list[str]]:
    """Build the scenario of the current load: one day at the recent rates, the daily cycle of
    the hourly counts, the current accounts on the default shifts. Also return the streams no
    account may take (no head count can serve them), which the scenario leaves out."""
    since = now - timedelta(days=days)
    streams, hours = recent_load(session=session, since=since)
    if sum(streams.values()) / days > MAX_CASES_A_DAY:
        raise TooLarge(f"more than {MAX_CASES_A_DAY} cases a day")
    accounts = _accounts(session)
    roster = []
    for index, ((role, languages, clearances), count) in enumerate(accounts.items()):
        for start, shift in SHIFTS:
            name = f"{index + 1}-{role}-{'_'.join(languages)}-{shift}"
            roster.append(
                {
                    "name": "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[-40:],
                    "count": math.ceil(count / len(SHIFTS)),
                    "role": role,
                    "languages": list(languages),
                    "clearances": list(clearances),
                    "shift": {"start": start, "length": SHIFT_LENGTH},
                }
            )
    arrivals = [
        {
            "source": source,
            "category": category,
            "language": language,
            "rate_per_hour": count / (days * 24),
            "cycle": "recent" if sum(hours) else "flat",
            "basis": f"recorded: {count} cases in {days} days",
        }
        for (source, category, language), count in sorted(streams.items())
    ]
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    draft = {
        "name": f"current load ({days} days to {now:%Y-%m-%d %H:%M} UTC)",
        "seed": int(midnight.timestamp()),
        "start": midnight,
        "duration": HORIZON,
        "drain": DRAIN,
        "cycles": {"recent": hours} if sum(hours) else {},
        "arrivals": arrivals or [_NOTHING],
        "roster": roster or [_NOBODY],
        "handling": _handling(session, since, now),
        "plan": {"max_count": MAX_COUNT},
    }
    scenario = Scenario.model_validate(draft)
    team = team_of(scenario, policy)
    unserved = [
        f"{s.source} · {s.category} · {s.language} ({queue})"
        for s in scenario.arrivals
        if (queue := unserved_queue(s, team)) is not None
    ]
    if unserved:
        served = [s for s in scenario.arrivals if unserved_queue(s, team) is None]
        scenario = scenario.model_copy(update={"arrivals": served or [Stream(**_NOTHING)]})
    return scenario, unserved


_NOTHING: dict[str, Any] = {
    "source": "user",
    "category": "other",
    "language": "und",
    "rate_per_hour": 0,
    "basis": "recorded: no case",
}
_NOBODY = {"name": "nobody", "count": 0, "languages": ["und"]}


def staffing(
    *, session: Session, policy: Policy, now: datetime, days: int = LOOKBACK_DAYS
) -> Staffing:
    """Plan the smallest roster per skill set and shift for the current load."""
    scenario, unserved = scenario_of(session=session, policy=policy, now=now, days=days)
    loaded = LoadedScenario(
        path=Path("database"),
        scenario=scenario,
        policy=policy,
        team=team_of(scenario, policy),
        lines=Lines(),
    )
    planned = plan(loaded)
    return Staffing(
        since=now - timedelta(days=days),
        days=days,
        streams=len([s for s in scenario.arrivals if s.rate_per_hour > 0]),
        cases_a_day=round(sum(s.rate_per_hour * 24 for s in scenario.arrivals), 1),
        accounts=sum(_accounts(session).values()),
        unserved=unserved,
        rows=_rows(loaded, planned),
        met=planned.met,
        runs=planned.runs,
    )


def _rows(loaded: LoadedScenario, planned: StaffingPlan) -> list[StaffingRow]:
    counts = {row.group: row.planned for row in planned.rows}
    scenario, policy = loaded.scenario, loaded.policy
    team = team_of(scenario, policy, counts)
    result = run(
        scenario=scenario, policy=policy, team=team, arrivals=draw(scenario), discipline="tanggap"
    )
    busy = figures.utilisation(result, team, scenario)
    return [
        StaffingRow(
            group=row.group,
            role=row.role,
            languages=row.languages,
            clearances=row.clearances,
            shift=row.shift,
            stated=row.stated,
            planned=row.planned,
            utilisation=busy.get(row.group, 0.0),
        )
        for row in planned.rows
    ]
