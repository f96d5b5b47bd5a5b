"""``tanggap simulate``: the review queues as a discrete-event simulation (docs/simulation.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tanggap.cli.common import fail
from tanggap.cli.replay import run_replay
from tanggap.simulation.charts import NAMES
from tanggap.simulation.loading import LoadedScenario, ScenarioError, load_scenario
from tanggap.simulation.loading import packaged_scenario as packaged
from tanggap.simulation.planner import StaffingPlan, plan
from tanggap.simulation.report import write_report
from tanggap.simulation.runs import simulate as run_all

PACKAGED = ("indonesia", "platform")


def simulate(
    scenario: Annotated[
        str | None,
        typer.Argument(help="A scenario file, or the name of a packaged one: indonesia, platform."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write figures.json, report.html and the charts (PNG) here."),
    ] = None,
    planning: Annotated[
        bool,
        typer.Option("--plan", help="Search the smallest roster per group that meets every clock."),
    ] = False,
    replaying: Annotated[
        bool,
        typer.Option(
            "--replay",
            help="Replay a recorded period from the database (with --since, --until) and "
            "compare the predicted times to action with the recorded ones.",
        ),
    ] = False,
    since: Annotated[
        str | None, typer.Option(help="With --replay: the period's start (ISO 8601).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="With --replay: the period's end (ISO 8601).")
    ] = None,
) -> None:
    """Simulate a scenario under FIFO, FIFO per language and Tanggap's order; print the figures."""
    if replaying:
        if scenario is not None or planning:
            fail("--replay: takes no scenario and no --plan; it reads the database", code=2)
        run_replay(since, until)
        return
    if scenario is None:
        fail("scenario: name a scenario file or a packaged one (or use --replay)", code=2)
    path = packaged(scenario) if scenario in PACKAGED else Path(scenario)
    try:
        loaded = load_scenario(path)
    except ScenarioError as exc:
        fail(exc.message, code=2)
    console = Console(stderr=True)
    if planning:
        _plan(loaded, console)
        return
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        tasks = {name: bar.add_task(label, total=1.0) for name, label in NAMES.items()}

        def tell(name: str, share: float) -> None:
            bar.update(tasks[name], completed=share)

        _, summary = run_all(loaded, tell)
        for task in tasks.values():
            bar.update(task, completed=1.0)
    _print(summary)
    if out is not None:
        for written in write_report(summary, out):
            typer.echo(f"wrote {written}")


def _hours(value: float | None) -> str:
    if value is None:
        return "never"
    return f"{value * 60:.1f} min" if value < 1 else f"{value:.2f} h"


def _print(summary: dict[str, Any]) -> None:
    console = Console(width=140)
    table = Table(title=f"{summary['scenario']}: p95 time to action (share within deadline)")
    for column in ("source", "category", "clock", "cases"):
        table.add_column(column)
    for name in summary["runs"]:
        table.add_column(NAMES[name], justify="right")
    groups = {
        name: {(g["source"], g["category"]): g for g in run["groups"]}
        for name, run in summary["runs"].items()
    }
    for g in summary["runs"]["tanggap"]["groups"]:
        key = (g["source"], g["category"])
        cells = [
            f"{_hours(groups[n][key]['p95_hours'])} ({groups[n][key]['share_within']:.0%})"
            for n in summary["runs"]
        ]
        table.add_row(
            g["source"], g["category"], f"{g['clock_hours']:g} h", str(g["cases"]), *cells
        )
    console.print(table)
    for target in summary["targets"]:
        verdict = "holds" if target["holds"] else "FAILS: " + "; ".join(target["reasons"])
        console.print(f"target {target['name']!r}: {verdict}")


def _plan(loaded: LoadedScenario, console: Console) -> None:
    with console.status("searching rosters") as status:

        def tried(counts: dict[str, int], met: bool) -> None:
            shown = ", ".join(f"{name} {n}" for name, n in counts.items())
            status.update(f"tried {shown}: {'meets' if met else 'misses'} the clocks")

        staffing = plan(loaded, tried)
    _print_plan(loaded, staffing)
    if not staffing.met:
        fail(
            f"no roster of at most {loaded.scenario.plan.max_count} per group meets every clock",
            code=1,
        )


def _print_plan(loaded: LoadedScenario, staffing: StaffingPlan) -> None:
    wanted = loaded.scenario.plan
    table = Table(
        title=f"{loaded.scenario.name}: smallest roster with every source and category at least "
        f"{wanted.share_within_at_least:.0%} within its clock and no group busier than "
        f"{wanted.max_utilisation:.0%} on duty ({staffing.runs} runs)"
    )
    for column in ("group", "role", "languages", "clearances", "shift", "stated", "planned"):
        table.add_column(column)
    for row in staffing.rows:
        table.add_row(
            row.group,
            row.role,
            row.languages,
            row.clearances,
            row.shift,
            str(row.stated),
            str(row.planned),
        )
    Console(width=140).print(table)
