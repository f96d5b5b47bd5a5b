"""Scenario files: the packaged ones, refusals that name the line, one seed one answer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tanggap.simulation.loading import ScenarioError, load_scenario, packaged_scenario
from tanggap.simulation.runs import simulate

SCENARIO = """\
name: small
seed: 7
start: 2026-01-05T00:00:00+07:00
duration: 12h
drain: 12h
arrivals:
  - source: removal_order
    category: terrorism
    language: id
    rate_per_hour: 0.5
    basis: "assumption: test"
  - source: user
    category: fraud
    language: id
    rate_per_hour: 4
    basis: "assumption: test"
roster:
  - name: day
    count: 1
    languages: [id, en]
    shift: {start: "06:00", length: 8h}
  - name: lead
    count: 1
    role: lead
    languages: [id]
handling:
  default: {median: 6m, p90: 15m, basis: "assumption: test"}
"""


def write(tmp_path: Path, text: str) -> Path:
    """Write a scenario file and return its path."""
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["indonesia", "platform"])
def test_the_packaged_scenarios_load_and_trace_every_rate(name: str) -> None:
    loaded = load_scenario(packaged_scenario(name))
    for stream in loaded.scenario.arrivals:
        traced = "assumption" in stream.basis or re.search(r"[0-9]", stream.basis)
        assert traced, f"{stream.source}/{stream.category}/{stream.language}: {stream.basis}"
    for handling in loaded.scenario.handling.values():
        assert "assumption" in handling.basis or re.search(r"[0-9]", handling.basis)


@pytest.mark.parametrize(
    ("changes", "line", "words"),
    [
        ({"category: fraud": "category: frauds"}, 13, "unknown category 'frauds'"),
        (
            {"language: id\n    rate_per_hour: 4": "language: xx\n    rate_per_hour: 4"},
            14,
            "unknown language 'xx'",
        ),
        ({"rate_per_hour: 4": "rate_per_hour: -4"}, 15, "greater than or equal to 0"),
        ({"median: 6m": "median: 6 minutes"}, 27, "must look like"),
        ({'shift: {start: "06:00"': 'shift: {start: "6 am"'}, 21, "must look like 07:00"),
        ({"drain: 12h\n": "drain: 12h\nabandon_share: 0.1\n"}, 6, "needs an abandon_basis"),
        # Nobody reads Arabic: the fallback queue, which only a lead takes; no lead.
        (
            {"language: id": "language: ar", "role: lead": "role: reviewer"},
            7,
            "no reviewer on the roster may take queue 'fallback:terrorism'",
        ),
        # A reviewer (not a lead) takes Indonesian cases; nobody takes the fallback queue.
        (
            {
                "  - name: lead\n    count: 1\n    role: lead\n    languages: [id]\n": "",
                "language: id\n    rate_per_hour: 4": "language: ms\n    rate_per_hour: 4",
            },
            12,
            "may take queue 'fallback:fraud'",
        ),
    ],
)
def test_a_bad_scenario_is_refused_naming_its_line(
    tmp_path: Path, changes: dict[str, str], line: int, words: str
) -> None:
    text = SCENARIO
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new, 1)
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as refused:
        load_scenario(path)
    assert refused.value.message.startswith(f"{path}:{line}: "), refused.value.message
    assert words in refused.value.message


def test_a_restricted_category_nobody_is_cleared_for_is_refused(tmp_path: Path) -> None:
    text = SCENARIO.replace("category: fraud", "category: child_sexual_abuse", 1)
    with pytest.raises(ScenarioError, match=r"scenario.yaml:12: arrivals\.1: .*clearance"):
        load_scenario(write(tmp_path, text))
    cleared = text.replace("role: lead\n", "role: lead\n    clearances: [child_sexual_abuse]\n")
    assert load_scenario(write(tmp_path, cleared)).team[1].skills.clearances


def test_broken_yaml_is_refused_with_its_line(tmp_path: Path) -> None:
    broken = SCENARIO.replace("rate_per_hour: 0.5", "rate_per_hour: 0.5: 1")
    with pytest.raises(ScenarioError, match=r"scenario.yaml:10: not valid YAML"):
        load_scenario(write(tmp_path, broken))


def test_one_seed_gives_one_answer_and_another_seed_another(tmp_path: Path) -> None:
    loaded = load_scenario(write(tmp_path, SCENARIO))
    _, first = simulate(loaded)
    _, again = simulate(load_scenario(write(tmp_path, SCENARIO)))
    assert first == again
    assert first["runs"]["tanggap"]["cases"] > 20
    _, other = simulate(load_scenario(write(tmp_path, SCENARIO.replace("seed: 7", "seed: 8"))))
    assert other["runs"]["tanggap"]["groups"] != first["runs"]["tanggap"]["groups"]
