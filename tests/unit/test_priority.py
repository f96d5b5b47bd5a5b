"""Priority and routing over hand-built situations (docs/review.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tanggap.cases import priority, routing
from tanggap.cases.priority import TriageInputs, order_key, prioritise
from tanggap.config import Settings
from tanggap.policy.service import load_policy

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
POLICY = load_policy(Settings().policy_file)
TRIAGE = POLICY.triage


def situation(**changes: object) -> TriageInputs:
    """A fraud notice from a user on a small channel, received now with a 72 h clock."""
    base = TriageInputs(
        clock_started_at=NOW,
        deadline=NOW + timedelta(hours=72),
        severity=6,
        subscribers=500,
        views=200,
        source="user",
        report_count=1,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def ranked(cases: dict[str, TriageInputs], now: datetime) -> list[str]:
    """Return the names of ``cases`` in the order "next case" hands them out."""

    def key(name: str) -> tuple[int, datetime, datetime]:
        scored = prioritise(cases[name], TRIAGE)
        return order_key(
            now=now,
            deadline=cases[name].deadline,
            near_at=scored.near_at,
            rank_at=scored.rank_at,
            opened_at=cases[name].clock_started_at,
        )

    return sorted(cases, key=key)


def test_a_case_near_its_deadline_beats_a_severe_one_with_time_to_spare() -> None:
    started = NOW - timedelta(hours=20)
    near_fraud = situation(clock_started_at=started, deadline=started + timedelta(hours=24))
    relaxed_terror = situation(
        severity=10,
        source="flagger",
        subscribers=2_000_000,
        clock_started_at=NOW,
        deadline=NOW + timedelta(hours=4),
    )
    assert ranked({"terror": relaxed_terror, "fraud": near_fraud}, NOW) == ["fraud", "terror"]
    # Before the fraud case crossed 75 % of its clock, the severe one went first.
    earlier = NOW - timedelta(hours=3)
    assert ranked(
        {
            "terror": replace(
                relaxed_terror, clock_started_at=earlier, deadline=earlier + timedelta(hours=4)
            ),
            "fraud": near_fraud,
        },
        earlier,
    ) == ["terror", "fraud"]


def test_overdue_cases_come_before_near_ones_whatever_their_weight() -> None:
    overdue = situation(
        clock_started_at=NOW - timedelta(hours=80), deadline=NOW - timedelta(minutes=1)
    )
    near_order = situation(
        source="removal_order",
        severity=10,
        clock_started_at=NOW - timedelta(minutes=50),
        deadline=NOW + timedelta(minutes=10),
    )
    assert ranked({"near": near_order, "overdue": overdue}, NOW) == ["overdue", "near"]


def test_within_a_band_severity_reach_source_and_reports_each_move_a_case_up() -> None:
    plain = situation()
    for better in (
        situation(severity=9),
        situation(subscribers=5_000_000),
        situation(source="flagger"),
        situation(report_count=4),
        situation(signal_score=0.9),
    ):
        assert ranked({"plain": plain, "better": better}, NOW) == ["better", "plain"]


def test_the_source_order_is_removal_order_then_flagger_then_user() -> None:
    cases = {s: situation(source=s) for s in ("user", "removal_order", "flagger")}  # type: ignore[misc]
    assert ranked(cases, NOW) == ["removal_order", "flagger", "user"]


def test_an_earlier_deadline_beats_a_head_start_smaller_than_the_gap() -> None:
    soon = situation(deadline=NOW + timedelta(hours=10))
    severe_later = situation(severity=10, deadline=NOW + timedelta(hours=12))
    # severity 10 vs 6 earns 48 minutes, far less than the two hours between the deadlines
    assert ranked({"later": severe_later, "soon": soon}, NOW) == ["soon", "later"]


def test_ties_go_to_the_case_opened_first() -> None:
    first = situation(
        clock_started_at=NOW - timedelta(minutes=5), deadline=NOW + timedelta(hours=72)
    )
    second = situation(clock_started_at=NOW, deadline=NOW + timedelta(hours=72))
    assert ranked({"second": second, "first": first}, NOW) == ["first", "second"]


def test_the_explanation_adds_up_to_the_head_start() -> None:
    scored = prioritise(
        situation(severity=10, subscribers=1_000_000, source="removal_order", report_count=3),
        TRIAGE,
    )
    factors = {f.factor: f.minutes for f in scored.factors}
    weights = TRIAGE.weights
    assert factors == {
        "severity": 10 * weights.severity,
        "reach": pytest.approx(3 * weights.reach),  # 1,000,000 is three decades above 1,000
        "source": weights.source.removal_order,
        "reports": 2 * weights.reports,
        "signals": 0.0,
    }
    assert scored.head_start_minutes == pytest.approx(sum(factors.values()))
    assert scored.rank_at == NOW + timedelta(hours=72) - timedelta(
        minutes=scored.head_start_minutes
    )
    assert scored.near_at == NOW + timedelta(hours=72) * TRIAGE.near_deadline


def test_reports_beyond_the_cap_add_nothing() -> None:
    cap = TRIAGE.weights.reports_cap
    at_cap = prioritise(situation(report_count=cap + 1), TRIAGE).head_start_minutes
    assert prioritise(situation(report_count=cap + 50), TRIAGE).head_start_minutes == at_cap


def test_bands_are_named_by_the_clock() -> None:
    deadline, near_at = NOW + timedelta(hours=1), NOW - timedelta(minutes=1)
    assert priority.band(now=NOW, deadline=deadline, near_at=near_at) == priority.NEAR
    assert priority.band(now=NOW, deadline=NOW, near_at=near_at) == priority.OVERDUE
    assert priority.band(now=NOW, deadline=deadline, near_at=deadline) == priority.LATER


def test_a_language_nobody_reads_goes_to_the_fallback_queue() -> None:
    read = {"id", "en"}
    assert routing.queue_for(language="id", category="fraud", languages_read=read) == "id:fraud"
    assert (
        routing.queue_for(language="ru", category="fraud", languages_read=read) == "fallback:fraud"
    )
    assert routing.queue_for(language=None, category="drugs", languages_read=read) == "und:drugs"
    assert routing.is_fallback("fallback:drugs") and not routing.is_fallback("id:drugs")
