"""Portable pieces of the report's aggregate queries: durations in seconds, counts, medians."""

from __future__ import annotations

import statistics
from collections.abc import Hashable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    SQLColumnExpression,
    case,
    cast,
    func,
    select,
)
from sqlalchemy.orm import Session

from tanggap.transparency.period import Period


def seconds_between(
    session: Session, later: SQLColumnExpression[Any], earlier: SQLColumnExpression[Any]
) -> ColumnElement[float]:
    """Return the SQL for ``later - earlier`` in seconds on the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", later - earlier), Float)
    # SQLite keeps timestamps as text; julianday's float is rounded to the millisecond so that
    # a median reads the same on both databases.
    return cast(func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0, 3), Float)


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """Return the SQL that counts the rows of a group where ``condition`` holds."""
    return cast(func.coalesce(func.sum(case((condition, 1), else_=0)), 0), Integer)


def within(column: SQLColumnExpression[Any], period: Period) -> ColumnElement[bool]:
    """Return the SQL for ``column`` in [since, until)."""
    return (column >= period.since) & (column < period.until)


def medians(
    session: Session, query: Select[*tuple[Any, ...]], groups: int = 0
) -> dict[tuple[Hashable, ...], float]:
    """Return the median of the last column of ``query`` per value of its first ``groups``
    columns (one key ``()`` with no group; a group with no value is absent)."""
    if session.get_bind().dialect.name == "postgresql":
        inner = query.subquery()
        columns = list(inner.c)
        keys, value = columns[:groups], columns[groups]
        grouped = select(*keys, func.percentile_cont(0.5).within_group(value)).where(
            value.is_not(None)
        )
        if keys:
            grouped = grouped.group_by(*keys)
        return {
            tuple(row[:groups]): float(row[groups])
            for row in session.execute(grouped)
            if row[groups] is not None
        }
    # SQLite has no percentile: the durations stream in, one column, and are kept per group.
    values: dict[tuple[Hashable, ...], list[float]] = {}
    for row in session.execute(query):
        if row[groups] is not None:
            values.setdefault(tuple(row[:groups]), []).append(float(row[groups]))
    return {key: statistics.median(found) for key, found in values.items()}


def whole(value: float | None) -> int | None:
    """Return whole seconds, or None."""
    return None if value is None else round(value)


def share(part: int, total: int) -> float | None:
    """Return ``part / total`` to four places, or None of nothing."""
    return round(part / total, 4) if total else None
