"""The replay's pieces by hand: stretches on duty, when a case was taken, the tolerated error."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

from tanggap.simulation.history import active_stretches, taken_at
from tanggap.simulation.replay import FLOOR_SECONDS, ReplayRow, Windows

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ANA, BUDI = uuid.UUID(int=1), uuid.UUID(int=2)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_windows_say_when_a_reviewer_is_on_duty() -> None:
    duty = Windows(((0.0, 100.0), (200.0, 300.0)))
    assert duty.on(0.0) and duty.on(99.9) and not duty.on(100.0) and duty.on(250.0)
    assert duty.until_on(150.0) == 50.0 and duty.until_on(50.0) == 0.0
    assert math.isinf(duty.until_on(300.0))  # nothing left: never again
    assert duty.until_off(250.0) == 50.0
    assert duty.seconds_on(50.0, 250.0) == 50.0 + 50.0


def test_activity_splits_into_stretches_at_a_long_pause() -> None:
    moments = [at(0), at(30), at(90), at(90 + 121), at(240)]
    assert active_stretches(moments, timedelta(hours=2)) == ((at(0), at(90)), (at(211), at(240)))


def test_a_case_is_taken_at_the_deciders_first_claim_since_anyone_elses() -> None:
    renewed = [(at(0), ANA), (at(5), ANA), (at(10), ANA)]
    assert taken_at(renewed, ANA, at(12)) == at(0)  # renewals do not restart the clock
    taken_over = [(at(0), BUDI), (at(15), ANA), (at(20), ANA)]
    assert taken_at(taken_over, ANA, at(25)) == at(15)
    assert taken_at([(at(30), ANA)], ANA, at(25)) is None  # a claim after the decision
    assert taken_at([(at(0), BUDI)], ANA, at(25)) is None


def test_the_tolerated_error_is_a_quarter_or_five_minutes() -> None:
    def row(recorded: float, predicted: float) -> ReplayRow:
        return ReplayRow("user", "fraud", 10, recorded, recorded, predicted, predicted)

    assert row(3600, 3600 * 1.25).within("p95") and not row(3600, 3600 * 1.26).within("p95")
    assert row(60, 60 + FLOOR_SECONDS).within("p50")  # a short time: five minutes either way
    assert not row(60, 61 + FLOOR_SECONDS).within("p50")
    assert row(math.inf, math.inf).within("p95") and not row(3600, math.inf).within("p95")
    assert row(600, 900).error("p50") == 300
