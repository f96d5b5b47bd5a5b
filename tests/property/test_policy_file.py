"""The policy file: durations read as written, a valid file sets the clocks it names, anything
else is a PolicyError (or, for one duration, a ValueError) that says where and why."""

from __future__ import annotations

import copy
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tanggap.config import Settings
from tanggap.policy.schemas import Policy, parse_duration
from tanggap.policy.service import PolicyError, compute_deadline, load_policy

DEFAULT = yaml.safe_load(Settings().policy_file.read_text(encoding="utf-8"))
UNITS = {"m": 60, "h": 3600, "d": 86400}
MAX_DURATION = timedelta(days=3660)  # the longest clock a policy may set
PYTHON_TEXT = (
    "Traceback",
    "maximum recursion",
    "Exceeds the limit",
    "too large to convert",
    "C int",
)
SOURCES = ("flagger", "user", "automated")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
durations = st.sampled_from(sorted(UNITS)).flatmap(
    lambda unit: st.tuples(
        st.integers(1, int(MAX_DURATION.total_seconds()) // UNITS[unit]), st.just(unit)
    )
)


def _policy_from(text: str) -> Policy | None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "policy.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            return load_policy(path)
        except PolicyError as exc:
            assert str(exc).startswith(f"policy file {path}: "), str(exc)
            assert not any(t in str(exc) for t in PYTHON_TEXT), str(exc)
            return None


@given(durations, st.sampled_from(["", " ", "  "]))
def test_a_duration_reads_as_written(duration: tuple[int, str], space: str) -> None:
    number, unit = duration
    written = f"{space}{number}{space}{unit}{space}"
    assert parse_duration(written) == timedelta(seconds=number * UNITS[unit])


@given(st.one_of(st.text(max_size=20), json_values))
@example("99999999999999d")  # without the fix: OverflowError out of timedelta
@example("1" * 400 + "d")  # without the fix: OverflowError (float infinity)
@example("٣h")  # without the fix: three hours, read from an Arabic-Indic digit
@example("3661d")
@example(10**5000)
@example("0.0000001m")
def test_any_duration_is_a_positive_clock_or_a_value_error(value: object) -> None:
    try:
        parsed = parse_duration(value)
    except ValueError as exc:
        assert str(exc).startswith("duration ") and not any(t in str(exc) for t in PYTHON_TEXT)
        return
    assert timedelta(0) < parsed <= MAX_DURATION
    assert isinstance(value, str) and value.strip()[:-1].strip().replace(".", "").isascii()


@settings(max_examples=50)  # each example writes and loads a policy file
@given(st.fixed_dictionaries({source: durations for source in SOURCES}), durations)
def test_a_valid_policy_file_sets_the_clocks_it_names(
    clocks: dict[str, tuple[int, str]], removal: tuple[int, str]
) -> None:
    raw = copy.deepcopy(DEFAULT)
    raw["deadline_classes"]["urgent"] = {s: f"{n}{u}" for s, (n, u) in clocks.items()}
    raw["removal_order_deadline"] = f"{removal[0]}{removal[1]}"
    policy = _policy_from(yaml.safe_dump(raw, allow_unicode=True))
    assert policy is not None
    urgent = next(c.id for c in policy.categories if c.deadline_class == "urgent")
    received = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    for source, (number, unit) in clocks.items():
        deadline = compute_deadline(
            policy=policy,
            received_at=received,
            source=source,  # type: ignore[arg-type]
            order_type="notice",
            category_id=urgent,
        )
        assert deadline - received == timedelta(seconds=number * UNITS[unit])
    order = compute_deadline(
        policy=policy,
        received_at=received,
        source="user",
        order_type="removal_order",
        category_id=urgent,
    )
    assert order - received == timedelta(seconds=removal[0] * UNITS[removal[1]])


@given(st.text(max_size=200))
@example("[" * 1500)  # without the fix: RecursionError out of the YAML composer
@example("version: " + "1" * 5000)  # without the fix: Python's "Exceeds the limit" ValueError
@example("removal_order_deadline: 99999999999999d")
@example("\ufeffversion: 1")
def test_any_text_is_a_policy_or_a_policy_error(text: str) -> None:
    _policy_from(text)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


PATHS = _paths(DEFAULT)


@given(st.sampled_from(PATHS), json_values)
def test_a_wrong_value_is_refused_naming_where_it_sits(path: tuple[Any, ...], value: Any) -> None:
    raw = copy.deepcopy(DEFAULT)
    node = raw
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    try:
        Policy.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            where = tuple(error["loc"])
            # A field's own error names a path into the changed value; the cross-checks of the
            # whole file (duplicate ids, unknown classes) name the category in their message.
            assert (
                where == ()
                or path[: len(where)] == where
                or where[: len(path)] == path
                or (path[0] == "categories" and where[:2] == path[:2])
            ), (path, error)
            assert not any(t in error["msg"] for t in PYTHON_TEXT), error["msg"]


def test_a_clock_longer_than_ten_years_is_refused() -> None:
    with pytest.raises(ValueError, match="at most 3660d"):
        parse_duration("3661d")
