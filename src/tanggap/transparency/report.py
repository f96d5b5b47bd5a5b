"""The whole report for a period, and the same figures one per row (the CSV, the page)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy.orm import Session

from tanggap.policy.schemas import Policy
from tanggap.transparency.clocks import clocks
from tanggap.transparency.moderation import automation, complaints, own_initiative
from tanggap.transparency.notices import notices, orders_to_act
from tanggap.transparency.period import Period
from tanggap.transparency.requests import GovernmentRequestFigures, not_available
from tanggap.transparency.schemas import GovernmentRequests, TransparencyReport
from tanggap.transparency.terrorism import terrorist_content

# The sections as the templates number them, in the report's order.
SECTIONS = {
    "orders_to_act": "1.2.1",
    "government_requests": "1.2.2",
    "notices": "1.3",
    "own_initiative": "1.4",
    "complaints": "1.5",
    "automation": "1.6",
    "terrorist_content": "tco",
    "clocks": "clocks",
}
CSV_COLUMNS = ("section", "measure", "dimensions", "value")


def build(
    *,
    session: Session,
    policy: Policy,
    period: Period,
    government_requests: GovernmentRequestFigures = not_available,
) -> TransparencyReport:
    """Compute every figure of the report over ``period``, reading only aggregates."""
    if not session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        # One snapshot for every section, so that the figures agree with each other while
        # reviewers keep deciding (SQLite's transaction already reads one snapshot).
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    requests = government_requests(session=session, period=period)
    return TransparencyReport(
        since=period.since,
        until=period.until,
        orders_to_act=orders_to_act(session=session, policy=policy, period=period),
        government_requests=GovernmentRequests(
            available=requests is not None, countries=requests or []
        ),
        notices=notices(session=session, policy=policy, period=period),
        own_initiative=own_initiative(session=session, policy=policy, period=period),
        complaints=complaints(session=session, period=period),
        automation=automation(session=session, period=period),
        terrorist_content=terrorist_content(session=session, policy=policy, period=period),
        clocks=clocks(session=session, policy=policy, period=period),
    )


@dataclass(frozen=True)
class Figure:
    """One number of the report: its section, what it measures, for what, and its value
    (None where there is nothing to measure, such as a median of no durations)."""

    section: str
    measure: str
    dimensions: tuple[tuple[str, str], ...]
    value: int | float | bool | None

    @property
    def dimension_text(self) -> str:
        """Return the dimensions as ``name=value`` pairs joined by ``;``."""
        return ";".join(f"{name}={value}" for name, value in self.dimensions)


def figures(report: TransparencyReport) -> list[Figure]:
    """Flatten the report: the text fields of a row are its dimensions, the others figures."""
    found: list[Figure] = []
    for name, section in SECTIONS.items():
        value = getattr(report, name)
        rows = value if isinstance(value, list) else [value]
        for row in rows:
            found += _row(section, "", row, ())
    return found


def _row(
    section: str, prefix: str, row: BaseModel, outer: tuple[tuple[str, str], ...]
) -> list[Figure]:
    values = row.model_dump()
    dimensions = outer + tuple((k, v) for k, v in values.items() if isinstance(v, str))
    found = []
    for key in type(row).model_fields:
        value = getattr(row, key)
        if isinstance(value, list):
            for inner in value:
                found += _row(section, f"{prefix}{key}.", inner, dimensions)
        elif isinstance(value, BaseModel):
            found += _row(section, f"{prefix}{key}.", value, dimensions)
        elif not isinstance(value, str):
            found.append(Figure(section, f"{prefix}{key}", dimensions, value))
    return found


def csv_text(report: TransparencyReport) -> str:
    """Write the report as CSV, one row per figure (an empty value where there is none)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for figure in figures(report):
        value = "" if figure.value is None else figure.value
        if isinstance(value, bool):
            value = "true" if value else "false"
        writer.writerow((figure.section, figure.measure, figure.dimension_text, value))
    return out.getvalue()
