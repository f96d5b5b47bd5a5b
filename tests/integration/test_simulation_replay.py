"""The replay against the real system: a history built through the real workflow (intake, triage,
reviewers taking their next case from the real queue and deciding it) at times set by the
service's own clock (``tanggap.db.base.utcnow``), then replayed from the database; the
predicted p50/p95 per source and category must be within the stated error of the recorded."""

from __future__ import annotations

import heapq
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from tanggap.auth import service as auth
from tanggap.auth.schemas import Caller
from tanggap.cases.schemas import DecisionIn
from tanggap.cli import app
from tanggap.db import base
from tanggap.flaggers import service as flaggers
from tanggap.posts import service as posts
from tanggap.posts.schemas import PostIn
from tanggap.reports import intake
from tanggap.reports.schemas import ReportIn
from tanggap.review import assignment, decisions
from tanggap.runtime import Runtime
from tanggap.simulation.arrivals import lognormal
from tanggap.simulation.history import read_history
from tanggap.simulation.replay import FLOOR_SECONDS, TOLERATED_SHARE, replay
from tests.conftest import TEST_SECRET
from tests.factories import REMOVAL_ORDER, make_org, new_reviewer, run_triage

HOURS = 8
RENEW_EVERY = 300
# (source, category, arrivals an hour): about 15 cases an hour for two reviewers and a lead
# who take about 7 minutes a case: busy enough that cases wait and the order matters.
STREAMS = (
    ("removal_order", "terrorism", 0.5),
    ("flagger", "terrorism", 2.0),
    ("flagger", "fraud", 3.0),
    ("user", "fraud", 5.0),
    ("user", "hate_speech", 4.5),
)
# (e-mail, role, languages, clearances, shift start and end in hours after the start)
ROSTER = (
    ("day1@example.org", "reviewer", ("id", "ms", "en"), (), 0, 6),
    ("day2@example.org", "reviewer", ("id", "ms", "en"), (), 0, 8),
    ("lead@example.org", "lead", ("id", "ms", "en"), ("child_sexual_abuse",), 0, 10),
)


class _Clock(datetime):
    """The service's clock, held at the moment the history has reached."""

    moment: ClassVar[datetime]

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        return cls.moment


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Clock]]:
    """Set the service's clock (``utcnow``) by hand: no sleeping."""
    _Clock.moment = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    monkeypatch.setattr(base, "datetime", _Clock)
    yield _Clock


@dataclass
class _OnShift:
    caller: Caller
    begins: float
    ends: float
    holding: uuid.UUID | None = None


def _arrivals(rng: random.Random) -> list[tuple[float, str, str]]:
    drawn = []
    for source, category, rate in STREAMS:
        at = rng.expovariate(rate / 3600)
        while at < HOURS * 3600:
            drawn.append((at, source, category))
            at += rng.expovariate(rate / 3600)
    return sorted(drawn)


def _report(
    runtime: Runtime, callers: dict[str, Caller], number: int, source: str, cat: str
) -> None:
    """Ingest a post and report it, the way a platform and a flagger do."""
    with runtime.factory() as session, session.begin():
        platform = callers["platform"]
        posts.ingest(
            session=session,
            data=PostIn(
                channel="riwayat",
                message_id=number,
                text=f"Kabar hari ini nomor {number} dari kota kami, silakan dibaca",
                posted_at=_Clock.moment - timedelta(hours=1),
                author_id=4242,
            ),
            keyring=runtime.settings.keyring,
            actor=platform.audit_actor,
            inspector=runtime.pipeline,
            owner_id=platform.id,
        )
        fields: dict[str, Any] = {"target": f"https://t.me/riwayat/{number}", "category": cat}
        if source == "removal_order":
            fields.update(REMOVAL_ORDER)
        intake.submit(
            session=session,
            caller=callers["platform" if source == "user" else "flagger"],
            data=ReportIn.model_validate(fields),
            policy=runtime.policy,
            keyring=runtime.settings.keyring,
            notifier=runtime.notifier,
        )
    run_triage(runtime)


def _claim_next(runtime: Runtime, reviewer: _OnShift) -> uuid.UUID | None:
    with runtime.factory() as session, session.begin():
        case = assignment.assign_next(
            session=session,
            caller=reviewer.caller,
            lease=timedelta(seconds=runtime.settings.claim_lease_seconds),
            policy=runtime.policy,
            notifier=runtime.notifier,
        )
        return None if case is None else case.id


def _renew(runtime: Runtime, reviewer: _OnShift) -> None:
    assert reviewer.holding is not None
    with runtime.factory() as session, session.begin():
        assignment.assign(
            session=session,
            caller=reviewer.caller,
            case_id=reviewer.holding,
            lease=timedelta(seconds=runtime.settings.claim_lease_seconds),
            policy=runtime.policy,
            notifier=runtime.notifier,
        )


def _decide(runtime: Runtime, reviewer: _OnShift) -> None:
    assert reviewer.holding is not None
    with runtime.factory() as session, session.begin():
        decisions.decide_case(
            session=session,
            caller=reviewer.caller,
            case_id=reviewer.holding,
            data=DecisionIn(outcome="no_violation", explanation="Nothing here breaks a rule."),
            policy=runtime.policy,
            notifier=runtime.notifier,
        )
    reviewer.holding = None


def _callers(runtime: Runtime) -> tuple[dict[str, Caller], list[_OnShift]]:
    make_org(runtime, "Desk Riwayat")
    callers: dict[str, Caller] = {}
    team = []
    with runtime.factory() as session, session.begin():
        for role, org_id in (("platform", None), ("flagger", None)):
            if role == "flagger":
                org = flaggers.get_by_name(session=session, name="Desk Riwayat")
                assert org is not None
                org_id = org.id
            principal = auth.create_principal(session=session, role=role, name=role, org_id=org_id)
            callers[role] = Caller(id=principal.id, role=role, name=role, org_id=org_id)
        for email, role, languages, clearances, begins, ends in ROSTER:
            made = new_reviewer(session, runtime, email, languages, clearances, role)
            caller = Caller(id=made.principal.id, role=role, name=email, org_id=None)
            team.append(_OnShift(caller, begins * 3600.0, ends * 3600.0))
    return callers, team


def _build_history(runtime: Runtime, clock: type[_Clock]) -> datetime:
    """Play eight hours of work through the real services; return the moment it started."""
    start = clock.moment
    callers, team = _callers(runtime)
    rng = random.Random(20261203)
    events: list[tuple[float, int, str, int]] = []
    for number, (at, _, _) in enumerate(_arrivals(rng)):
        heapq.heappush(events, (at, len(events), "arrival", number))
    for index, reviewer in enumerate(team):
        heapq.heappush(events, (reviewer.begins, len(events), "shift", index))
    arrivals = _arrivals(random.Random(20261203))
    handling = random.Random(7)

    def take(reviewer: _OnShift, now: float) -> None:
        if reviewer.holding is not None or not reviewer.begins <= now < reviewer.ends:
            return
        reviewer.holding = _claim_next(runtime, reviewer)
        if reviewer.holding is not None:
            work = lognormal(handling, 360.0, 900.0)
            number = team.index(reviewer)
            heapq.heappush(events, (now + work, len(events), "done", number))
            # A claim lasts ten minutes: whoever works longer renews it, as the console does.
            for renewal in range(RENEW_EVERY, int(work), RENEW_EVERY):
                heapq.heappush(events, (now + renewal, len(events), "renew", number))

    while events:
        now, _, kind, which = heapq.heappop(events)
        clock.moment = start + timedelta(seconds=now)
        if kind == "arrival":
            _, source, category = arrivals[which]
            _report(runtime, callers, which + 1, source, category)
            for reviewer in team:
                take(reviewer, now)
        elif kind == "shift":
            take(team[which], now)
        elif kind == "renew":
            _renew(runtime, team[which])
        else:
            _decide(runtime, team[which])
            take(team[which], now)
    return start


def test_a_replay_of_a_recorded_period_predicts_its_times_to_action(
    runtime: Runtime, clock: type[_Clock]
) -> None:
    started = time.perf_counter()
    start = _build_history(runtime, clock)
    built = time.perf_counter() - started
    with runtime.factory() as session:
        history = read_history(session=session, since=start, until=start + timedelta(hours=HOURS))
    assert len(history.cases) == len(_arrivals(random.Random(20261203)))
    assert all(case.decided_at is not None for case in history.cases)
    assert all(case.handling_seconds is not None for case in history.cases)
    assert {r.role for r in history.reviewers} == {"reviewer", "lead"}
    lease = runtime.settings.claim_lease_seconds
    found = replay(history=history, policy=runtime.policy, lease_seconds=lease)
    print(f"history of {found.cases} cases built in {built:.1f} s; replay:")
    for row in found.rows:
        print(
            f"  {row.source} {row.category} n={row.cases}: "
            f"p50 {row.recorded_p50 / 60:.1f} -> {row.predicted_p50 / 60:.1f} min, "
            f"p95 {row.recorded_p95 / 60:.1f} -> {row.predicted_p95 / 60:.1f} min"
        )
    # Cases waited: the users' reports queue behind the urgent ones.
    assert max(row.recorded_p95 for row in found.rows) > 20 * 60
    for row in found.rows:
        for which in ("p50", "p95"):
            assert row.within(which), (
                f"{row.source}/{row.category} {which}: predicted off by "
                f"{row.error(which) / 60:.1f} min, over {TOLERATED_SHARE:.0%} "
                f"or {FLOOR_SECONDS / 60:.0f} min"
            )
    assert found.holds
    # The comparison can fail: without the lead the same arrivals wait far longer.
    short = replace(history, reviewers=[r for r in history.reviewers if r.role != "lead"])
    fewer = replay(history=short, policy=runtime.policy, lease_seconds=lease)
    assert not fewer.holds

    # The command prints the same comparison, and refuses a period it cannot read.
    env = {
        "TANGGAP_ENV": "test",
        "TANGGAP_DATABASE_URL": runtime.settings.database_url,
        "TANGGAP_SECRET_KEY": TEST_SECRET,
    }
    period = ["--since", start.isoformat(), "--until", (start + timedelta(hours=HOURS)).isoformat()]
    result = CliRunner().invoke(app, ["simulate", "--replay", *period], env=env)
    assert result.exit_code == 0, result.output
    assert "recorded p95" in result.output and "predicted p95" in result.output
    assert "user" in result.output and "removal_order" in result.output
    assert "NO" not in result.output
    refused = CliRunner().invoke(app, ["simulate", "--replay", "--since", "yesterday"], env=env)
    assert refused.exit_code == 2
    assert "--since" in refused.output
