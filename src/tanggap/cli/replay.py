"""``tanggap simulate --replay``: a recorded period replayed, predicted against recorded."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.table import Table

from tanggap.cli.common import fail, runtime_for
from tanggap.simulation.history import read_history
from tanggap.simulation.replay import FLOOR_SECONDS, TOLERATED_SHARE, Replay, replay

LONGEST = timedelta(days=31)


def moment(value: str | None, option: str) -> datetime:
    """Read an ISO 8601 moment given to ``option`` (UTC when it names no offset)."""
    if not value:
        fail(f"{option}: --replay needs --since and --until (ISO 8601, e.g. 2026-12-01T00:00Z)", 2)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value[:40]!r} is not an ISO 8601 moment like 2026-12-01T00:00Z", 2)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def run_replay(since_text: str | None, until_text: str | None) -> None:
    """Read the period from the database, replay it, print both and the error."""
    since, until = moment(since_text, "--since"), moment(until_text, "--until")
    if until <= since:
        fail("--until: must come after --since", 2)
    if until - since > LONGEST:
        fail("--until: a replay covers at most 31 days", 2)
    with runtime_for() as runtime:
        with runtime.factory() as session:
            history = read_history(session=session, since=since, until=until)
        if not history.cases:
            fail(
                f"--since: no case arrived and was triaged between {since:%Y-%m-%d %H:%M} "
                f"and {until:%Y-%m-%d %H:%M}"
            )
        if not any(case.handling_seconds is not None for case in history.cases):
            fail("--since: no case of the period was claimed and decided: nothing to compare")
        found = replay(
            history=history,
            policy=runtime.policy,
            lease_seconds=runtime.settings.claim_lease_seconds,
        )
    print_replay(found)
    if not found.holds:
        fail("the replay misses the recorded times by more than the tolerated error", 1)


def _time(seconds: float) -> str:
    if math.isinf(seconds):
        return "never"
    return f"{seconds / 60:.1f} min" if seconds < 3600 else f"{seconds / 3600:.2f} h"


def _error(seconds: float) -> str:
    if math.isinf(seconds) or math.isnan(seconds):
        return "–"
    return f"{'+' if seconds >= 0 else '-'}{_time(abs(seconds))}"


def print_replay(found: Replay) -> None:
    """Print the recorded and predicted p50/p95 per source and category, with the error."""
    table = Table(
        title=f"replay of {found.since.isoformat()} to {found.until.isoformat()}: {found.cases} "
        f"cases, {found.reviewers} reviewers; tolerated error {TOLERATED_SHARE:.0%} or "
        f"{FLOOR_SECONDS / 60:.0f} min"
    )
    for column in ("source", "category", "cases", "recorded p50", "predicted p50", "error"):
        table.add_column(column)
    for column in ("recorded p95", "predicted p95", "error", "within"):
        table.add_column(column)
    for row in found.rows:
        table.add_row(
            row.source,
            row.category,
            str(row.cases),
            _time(row.recorded_p50),
            _time(row.predicted_p50),
            _error(row.error("p50")),
            _time(row.recorded_p95),
            _time(row.predicted_p95),
            _error(row.error("p95")),
            "yes" if row.within("p50") and row.within("p95") else "NO",
        )
    Console(width=160).print(table)
