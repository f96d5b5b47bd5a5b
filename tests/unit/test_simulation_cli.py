"""``tanggap simulate`` end to end on a tiny scenario: the report written, the planner, refusals."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tanggap.cli import app

TINY = """\
name: tiny
seed: 3
start: 2026-01-05T00:00:00+07:00
duration: 6h
drain: 6h
arrivals:
  - {source: removal_order, category: terrorism, language: id, rate_per_hour: 1,
     basis: "assumption: test"}
  - {source: user, category: fraud, language: id, rate_per_hour: 10, basis: "assumption: test"}
roster:
  - {name: desk, count: 6, languages: [id]}
handling:
  default: {median: 3m, p90: 6m, basis: "assumption: test"}
targets:
  - {name: removal orders in an hour, source: removal_order, p95_at_most: 1h}
plan:
  max_count: 8
"""


def scenario(tmp_path: Path, text: str = TINY) -> Path:
    """Write a scenario file and return its path."""
    path = tmp_path / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_simulate_writes_the_figures_the_charts_and_one_self_contained_page(
    tmp_path: Path,
) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["simulate", str(scenario(tmp_path)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "removal orders in an hour" in result.output
    figures = json.loads((out / "figures.json").read_text(encoding="utf-8"))
    assert set(figures["runs"]) == {"fifo", "fifo_per_language", "tanggap"}
    tanggap = figures["runs"]["tanggap"]
    assert {(g["source"], g["category"]) for g in tanggap["groups"]} == {
        ("removal_order", "terrorism"),
        ("user", "fraud"),
    }
    assert tanggap["cases"] == sum(g["cases"] for g in tanggap["groups"]) > 30
    assert figures["targets"][0]["name"] == "removal orders in an hour"
    for chart in ("p95.png", "backlog.png", "utilisation.png"):
        assert (out / chart).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 3
    assert "http" not in page  # nothing fetched from elsewhere


def test_a_bad_scenario_stops_before_any_run_naming_its_line(tmp_path: Path) -> None:
    out = tmp_path / "report"
    bad = scenario(tmp_path, TINY.replace("rate_per_hour: 10", "rate_per_hour: -10"))
    result = CliRunner().invoke(app, ["simulate", str(bad), "--out", str(out)])
    assert result.exit_code == 2
    assert f"{bad}:9: arrivals.1.rate_per_hour" in result.output
    assert not out.exists()


def test_the_planner_finds_a_smaller_roster_that_meets_every_clock(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "--plan", str(scenario(tmp_path))])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "desk" in line)
    cells = [cell.strip() for cell in row.split("│") if cell.strip()]
    stated, planned = int(cells[-2]), int(cells[-1])
    assert stated == 6
    assert 1 <= planned < stated


def test_the_planner_says_so_when_no_roster_within_bounds_meets_the_clocks(
    tmp_path: Path,
) -> None:
    overloaded = TINY.replace("rate_per_hour: 10", "rate_per_hour: 300").replace(
        "max_count: 8", "max_count: 4"
    )
    result = CliRunner().invoke(app, ["simulate", "--plan", str(scenario(tmp_path, overloaded))])
    assert result.exit_code == 1
    assert "no roster of at most 4 per group meets every clock" in result.output


def test_the_planner_leaves_each_group_room_to_spare(tmp_path: Path) -> None:
    # About 40 minutes of work an hour: one reviewer meets the clocks, but is busier than 40 %.
    tight = TINY.replace("max_count: 8", "max_count: 8\n  max_utilisation: 0.4")
    result = CliRunner().invoke(app, ["simulate", "--plan", str(scenario(tmp_path, tight))])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "desk" in line)
    assert int([cell.strip() for cell in row.split("│") if cell.strip()][-1]) >= 2
