"""Deadlines come from the policy file: source, order type, category."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tanggap.config import DEFAULT_POLICY_FILE
from tanggap.policy.schemas import parse_duration
from tanggap.policy.service import PolicyError, compute_deadline, load_policy

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
POLICY = load_policy(DEFAULT_POLICY_FILE)


def deadline(source: str, category: str, order_type: str = "notice") -> timedelta:
    return (
        compute_deadline(
            policy=POLICY,
            received_at=NOW,
            source=source,  # type: ignore[arg-type]
            order_type=order_type,  # type: ignore[arg-type]
            category_id=category,
        )
        - NOW
    )


@pytest.mark.parametrize("category", ["terrorism", "child_sexual_abuse", "drugs"])
def test_urgent_categories_give_flaggers_four_hours_and_users_a_day(category: str) -> None:
    assert deadline("flagger", category) == timedelta(hours=4)
    assert deadline("user", category) == timedelta(hours=24)


@pytest.mark.parametrize(
    "category",
    ["fraud", "illegal_gambling", "illicit_trade", "hate_speech", "violence", "disinformation"],
)
def test_standard_categories_give_flaggers_a_day_and_users_three(category: str) -> None:
    assert deadline("flagger", category) == timedelta(hours=24)
    assert deadline("user", category) == timedelta(hours=72)


def test_other_gives_everyone_three_days() -> None:
    assert deadline("flagger", "other") == timedelta(hours=72)
    assert deadline("user", "other") == timedelta(hours=72)


@pytest.mark.parametrize("category", ["terrorism", "fraud", "other"])
def test_removal_order_runs_one_hour_whatever_the_category(category: str) -> None:
    assert deadline("flagger", category, "removal_order") == timedelta(hours=1)


def test_automated_reports_follow_their_column() -> None:
    assert deadline("automated", "terrorism") == timedelta(hours=24)
    assert deadline("automated", "fraud") == timedelta(hours=72)


def test_unknown_category_and_naive_time_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown category"):
        deadline("flagger", "jaywalking")
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_deadline(
            policy=POLICY,
            received_at=datetime(2026, 1, 1),
            source="user",
            order_type="notice",
            category_id="fraud",
        )


def test_an_operator_policy_file_changes_the_clocks(tmp_path: Path) -> None:
    text = DEFAULT_POLICY_FILE.read_text().replace(
        "urgent:   {flagger: 4h,", "urgent:   {flagger: 90m,"
    )
    custom = tmp_path / "policy.yaml"
    custom.write_text(text)
    policy = load_policy(custom)
    got = compute_deadline(
        policy=policy, received_at=NOW, source="flagger", order_type="notice", category_id="drugs"
    )
    assert got - NOW == timedelta(minutes=90)


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ("removal_order_deadline: 1h", "removal_order_deadline: soon", "30m, 4h or 7d"),
        (
            "class: urgent\n    severity: 10",
            "class: panic\n    severity: 10",
            "unknown class 'panic'",
        ),
        ("  - id: other", "  - id: fraud", "duplicate category id 'fraud'"),
        ("version: 1", "version: 2", "version"),
    ],
)
def test_a_broken_policy_file_is_refused_with_the_reason(
    tmp_path: Path, replace: str, by: str, message: str
) -> None:
    broken = tmp_path / "policy.yaml"
    text = DEFAULT_POLICY_FILE.read_text()
    assert replace in text
    broken.write_text(text.replace(replace, by, 1))
    with pytest.raises(PolicyError, match=message):
        load_policy(broken)


def test_missing_and_unparsable_policy_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="No such file"):
        load_policy(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("categories: [unclosed")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30m", timedelta(minutes=30)), ("4h", timedelta(hours=4)), ("7d", timedelta(days=7))],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["0h", "4", "h", "-1h", "4 hours"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
