"""The report of a run: one self-contained HTML page (charts inlined), the figures as JSON."""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path
from typing import Any

from tanggap.simulation.charts import NAMES, all_charts


def _hours(value: float | None) -> str:
    if value is None:
        return "never"
    return f"{value * 60:.1f} min" if value < 1 else f"{value:.2f} h"


def _targets(summary: dict[str, Any]) -> str:
    if not summary["targets"]:
        return ""
    rows = "".join(
        f"<tr><td>{escape(t['name'])}</td><td>{'holds' if t['holds'] else 'FAILS'}</td>"
        f"<td>{t['cases']}</td><td>{_hours(t['p95_hours'])}</td>"
        f"<td>{_hours(t['fifo_p95_hours']) if t['fifo_ratio'] is not None else '–'}</td>"
        f"<td>{t['share_within']:.1%}</td><td>{escape('; '.join(t['reasons']))}</td></tr>"
        for t in summary["targets"]
    )
    return (
        "<h2>Targets (Tanggap's order, the roster as stated)</h2><table><tr><th>target</th>"
        "<th>verdict</th><th>cases</th><th>p95</th><th>FIFO p95</th><th>within deadline</th>"
        f"<th>why not</th></tr>{rows}</table>"
    )


def _groups(name: str, run: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{escape(g['source'])}</td><td>{escape(g['category'])}</td>"
        f"<td>{g['clock_hours']:g} h</td><td>{g['cases']}</td><td>{_hours(g['p50_hours'])}</td>"
        f"<td>{_hours(g['p95_hours'])}</td><td>{_hours(g['p99_hours'])}</td>"
        f"<td>{g['share_within']:.1%}</td><td>{g['escalated']}</td><td>{g['undecided']}</td></tr>"
        for g in run["groups"]
    )
    return (
        f"<h3>{escape(NAMES[name])}</h3><p>{run['cases']} cases, {run['decided']} decided, "
        f"{run['walkaways']} claims walked away from, {run['escalations']} escalations, "
        f"{run['breaches']} breaches recorded.</p><table><tr><th>source</th><th>category</th>"
        "<th>clock</th><th>cases</th><th>p50</th><th>p95</th><th>p99</th><th>within</th>"
        f"<th>escalated</th><th>undecided</th></tr>{rows}</table>"
    )


def html_page(summary: dict[str, Any], charts: dict[str, bytes]) -> str:
    """Return the whole report as one HTML page, charts inlined as base64 PNG."""
    images = "".join(
        f'<p><img alt="{escape(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode("ascii")}"></p>'
        for name, png in charts.items()
    )
    runs = "".join(_groups(name, run) for name, run in summary["runs"].items())
    roster = ", ".join(f"{escape(k)} {v}" for k, v in summary["roster"].items())
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Simulation: {escape(summary['scenario'])}</title><style>"
        "body{font-family:sans-serif;max-width:1000px;margin:2em auto}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
        "padding:.2em .5em;text-align:right}td:first-child,th:first-child{text-align:left}"
        "</style></head><body>"
        f"<h1>{escape(summary['scenario'])}</h1><p>Seed {summary['seed']}, "
        f"{summary['duration_hours']:g} hours of arrivals; roster: {roster}.</p>"
        f"{_targets(summary)}{images}<h2>Time to action per source and category</h2>{runs}"
        "</body></html>"
    )


def write_report(summary: dict[str, Any], out: Path) -> list[Path]:
    """Write figures.json, the charts and report.html under ``out``; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    charts = all_charts(summary)
    written = [out / "figures.json", out / "report.html"]
    written[0].write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    written[1].write_text(html_page(summary, charts), encoding="utf-8")
    for name, png in charts.items():
        (out / name).write_bytes(png)
        written.append(out / name)
    return written
