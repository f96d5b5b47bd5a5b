"""The pure parts of the transparency report: the period, the flattening into figures, the
durations and the charts the page draws."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tanggap.errors import InvalidInput
from tanggap.transparency.period import period
from tanggap.transparency.report import figures
from tanggap.transparency.schemas import (
    Automation,
    Clock,
    Complaints,
    GovernmentRequests,
    Notices,
    OrdersByState,
    OrdersToAct,
    OwnInitiative,
    TerroristContent,
    TransparencyReport,
)
from tanggap.web.charts import bars
from tanggap.web.transparency_page import duration

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


def test_the_period_defaults_to_the_year_to_the_end_of_today() -> None:
    found = period(since=None, until=None, now=NOW)
    assert found.until == datetime(2026, 12, 4, tzinfo=UTC)
    assert found.since == found.until - timedelta(days=365)


def test_a_time_without_a_zone_is_utc_and_a_zone_is_kept() -> None:
    found = period(
        since=datetime(2026, 3, 1),
        until=datetime(2026, 4, 1, 7, tzinfo=UTC) + timedelta(hours=0),
        now=NOW,
    )
    assert found.since == datetime(2026, 3, 1, tzinfo=UTC)
    assert found.until == datetime(2026, 4, 1, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("since", "until", "field"),
    [
        (datetime(2026, 3, 2), datetime(2026, 3, 1), "since"),
        (datetime(2025, 1, 1), datetime(2026, 1, 2, 0, 0, 1), "until"),
        (datetime(1999, 12, 31), None, "since"),
        (datetime(2027, 1, 1), None, "since"),  # after the end of today, with no until
    ],
)
def test_a_bad_period_names_its_field(since: datetime, until: datetime | None, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        period(since=since, until=until, now=NOW)
    assert refused.value.field == field


def test_a_year_and_a_day_is_the_widest_period() -> None:
    found = period(since=datetime(2024, 1, 1), until=datetime(2025, 1, 1), now=NOW)
    assert found.until - found.since == timedelta(days=366)


def _report() -> TransparencyReport:
    zero_clock = Clock(
        clock="urgent",
        source="user",
        deadline_seconds=86400,
        decided=0,
        within_deadline=0,
        within_deadline_share=None,
    )
    return TransparencyReport(
        since=NOW - timedelta(days=1),
        until=NOW,
        orders_to_act=OrdersToAct(
            received=2,
            given_effect=1,
            median_seconds_to_confirm=0,
            median_seconds_to_effect=60,
            by_member_state=[
                OrdersByState(country="ID", received=2, given_effect=1, median_seconds_to_effect=60)
            ],
            by_category=[],
        ),
        government_requests=GovernmentRequests(available=False, countries=[]),
        notices=Notices(
            received=0,
            settled_by_automated_decision=0,
            median_seconds_to_action=None,
            by_source=[],
            by_category=[],
            actions=[],
        ),
        own_initiative=OwnInitiative(
            cases=0,
            decided_automatically=0,
            by_category=[],
            by_restriction=[],
            by_detection_method=[],
        ),
        complaints=Complaints(
            received=0,
            upheld=0,
            reversed=0,
            pending=0,
            median_seconds_to_decide=None,
            channel_bans=0,
            member_bans=0,
        ),
        automation=Automation(
            decisions=0,
            fully_automated=0,
            fully_automated_share=None,
            automated_detections=0,
            automated_reversed_on_appeal=0,
            automated_reversal_rate=None,
        ),
        terrorist_content=TerroristContent(
            removal_orders_received=0,
            removal_orders_acted_within_deadline=0,
            deadline_seconds=3600,
            items_removed_or_disabled=0,
            complaints=0,
            complaints_upheld=0,
            complaints_reversed=0,
            items_restored_after_complaint=0,
        ),
        clocks=[zero_clock],
    )


def test_text_fields_become_dimensions_and_the_rest_figures() -> None:
    found = {(f.section, f.measure, f.dimension_text): f.value for f in figures(_report())}
    assert found[("1.2.1", "received", "")] == 2
    assert found[("1.2.1", "by_member_state.median_seconds_to_effect", "country=ID")] == 60
    assert found[("1.2.2", "available", "")] is False
    assert found[("clocks", "within_deadline_share", "clock=urgent;source=user")] is None
    assert ("clocks", "clock", "clock=urgent;source=user") not in found


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(None, "–"), (0, "0 s"), (59, "59 s"), (60, "1 min"), (3600, "1 h"), (5400, "1 h 30 min"),
     (86400, "1 d"), (90000, "1 d 1 h")],
)  # fmt: skip
def test_durations_read_as_people_say_them(seconds: int | None, said: str) -> None:
    assert duration(seconds) == said


def test_the_chart_escapes_its_labels_and_scales_its_bars() -> None:
    drawn = str(bars("Actions <taken>", [("<b>remove</b>", 3.0), ("ban", 1.0)]))
    assert drawn.startswith("<svg") and drawn.endswith("</svg>")
    assert "<b>" not in drawn and "&lt;b&gt;remove&lt;/b&gt;" in drawn
    assert 'width="260.0"' in drawn and 'width="86.7"' in drawn
    assert "<script" not in drawn
    assert str(bars("Nothing", [])) == ""
    assert 'width="130.0"' in str(bars("Shares", [("standard · user", 0.5)], percent=True))
