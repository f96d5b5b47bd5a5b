"""The report's charts as PNG bytes (matplotlib's Agg canvas: no display, no pyplot state).
matplotlib is imported when a chart is drawn: it would add half a second to every command's
start."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

NAMES = {"fifo": "FIFO", "fifo_per_language": "FIFO per language", "tanggap": "Tanggap"}
COLOURS = {"fifo": "#999999", "fifo_per_language": "#e69f00", "tanggap": "#0072b2"}


def _canvas(width: float, height: float) -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure, figure.subplots()


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def p95_chart(summary: dict[str, Any]) -> bytes:
    """Draw each discipline's p95 time to action per source and category, with its clock."""
    runs = summary["runs"]
    labels = [f"{g['source']} · {g['category']}" for g in runs["tanggap"]["groups"]]
    clocks = [g["clock_hours"] for g in runs["tanggap"]["groups"]]
    figure, axes = _canvas(9, 0.5 * len(labels) + 1.5)
    height = 0.8 / len(runs)
    ceiling = max(clocks) * 4
    for offset, (name, run) in enumerate(runs.items()):
        by_label = {f"{g['source']} · {g['category']}": g for g in run["groups"]}
        values = []
        for label in labels:
            p95 = by_label[label]["p95_hours"] if label in by_label else None
            values.append(ceiling if p95 is None else max(p95, 1 / 60))
        rows = [i + offset * height for i in range(len(labels))]
        axes.barh(rows, values, height=height, color=COLOURS[name], label=NAMES[name])
    for i, clock in enumerate(clocks):
        axes.plot([clock, clock], [i - 0.1, i + 0.8], color="#d55e00", linewidth=2)
    axes.set_yticks([i + 0.4 - height / 2 for i in range(len(labels))], labels)
    axes.invert_yaxis()
    axes.set_xscale("log")
    axes.set_xlabel("p95 time to action, hours (log scale); red line: the legal clock")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    axes.set_title("p95 time to action against each clock")
    return _png(figure)


def backlog_chart(summary: dict[str, Any]) -> bytes:
    """Draw the number of undecided cases over time, per discipline."""
    figure, axes = _canvas(9, 3.5)
    for name, run in summary["runs"].items():
        hours = [point[0] for point in run["backlog"]]
        counts = [point[1] for point in run["backlog"]]
        axes.plot(hours, counts, color=COLOURS[name], label=NAMES[name])
    axes.axvline(summary["duration_hours"], color="#555555", linestyle=":", linewidth=1)
    axes.set_xlabel("hours since the start (dotted: arrivals stop)")
    axes.set_ylabel("undecided cases")
    axes.legend()
    axes.set_title("Backlog over time")
    return _png(figure)


def utilisation_chart(summary: dict[str, Any]) -> bytes:
    """Draw each roster group's utilisation, per discipline."""
    runs = summary["runs"]
    groups = list(runs["tanggap"]["utilisation"])
    figure, axes = _canvas(9, 3.5)
    width = 0.8 / len(runs)
    for offset, (name, run) in enumerate(runs.items()):
        positions = [i + offset * width for i in range(len(groups))]
        shares = [100 * run["utilisation"].get(g, 0.0) for g in groups]
        axes.bar(positions, shares, width=width, color=COLOURS[name], label=NAMES[name])
    axes.set_xticks([i + 0.4 - width / 2 for i in range(len(groups))], groups)
    axes.set_ylabel("% of time on duty spent on cases")
    axes.legend()
    axes.set_title("Reviewer utilisation by roster group")
    return _png(figure)


def all_charts(summary: dict[str, Any]) -> dict[str, bytes]:
    """Return every chart of the report by file name."""
    return {
        "p95.png": p95_chart(summary),
        "backlog.png": backlog_chart(summary),
        "utilisation.png": utilisation_chart(summary),
    }
