"""Declarative base and the portable column types every table uses."""

from __future__ import annotations

import operator
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    CursorResult,
    DateTime,
    Integer,
    MetaData,
    Result,
    String,
    Table,
    TypeDecorator,
    Uuid,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.sql.dml import Insert

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


E = TypeVar("E", bound=StrEnum)


class StrEnumType(TypeDecorator[E], Generic[E]):
    """A ``StrEnum`` stored as its text value (a plain VARCHAR, no database enum type): read
    back as the enum member; writing a value the enum lacks fails before it reaches the table."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int):
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


JSONType = JSON().with_variant(JSONB(), "postgresql")
UUIDType = Uuid(as_uuid=True)
# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Base of every ORM table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        uuid.UUID: UUIDType,
        dict[str, Any]: JSONType,
        list[str]: JSONType,
        str: String(),
    }


def insert_skipping_conflicts(session: Session, model: type[Any], *columns: str) -> Insert:
    """``INSERT … ON CONFLICT (columns) DO NOTHING`` for the session's database (SQLite or
    PostgreSQL): a row another transaction stored first is skipped, not an error."""
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    return dialect.insert(model).on_conflict_do_nothing(index_elements=list(columns))


def rowcount(result: Result[Any]) -> int:
    """Return how many rows an UPDATE or DELETE matched."""
    return int(cast(CursorResult[Any], result).rowcount)


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    """Return a fresh random identifier for a row that leaves the service (reports, cases…)."""
    return uuid.uuid4()


def table_of(model: type[Base]) -> Table:
    """Return a model's table, for Core statements (a bulk insert through it skips the ORM's
    work per row)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def insert_rows(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """Insert plain rows in the session's transaction, as ``session.execute(insert(table),
    rows)`` would (the columns' Python defaults for keys no row names, their types'
    conversions; a key some rows name is NULL in the rows without it), but straight through the
    driver: ``COPY`` on PostgreSQL, whose driver sends one statement a row otherwise, and one
    ``executemany`` of tuples on SQLite (the ORM's per-row parameter handling was most of a bulk
    insert's time)."""
    if not rows:
        return
    table = table_of(model)
    session.flush()  # rows added through the ORM first, as a statement's autoflush would
    connection = session.connection()
    names = list(dict.fromkeys(key for row in rows for key in row))
    defaults = {
        column.name: column.default
        for column in table.c
        if column.name not in names and column.default is not None
    }
    columns = [table.c[name] for name in names] + [table.c[name] for name in defaults]
    dialect = connection.dialect
    convert = [column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns]
    listed = ", ".join(column.name for column in columns)
    values: Callable[[dict[str, Any]], Sequence[Any]]
    if defaults or any(convert) or any(len(row) != len(names) for row in rows):

        def values(row: dict[str, Any]) -> Sequence[Any]:
            found = [row.get(name) for name in names]
            found += [_default_value(default) for default in defaults.values()]
            return [v if f is None else f(v) for v, f in zip(found, convert, strict=True)]

    else:  # every row names every column, as it is: a tuple straight from the dict (bands)
        picked = operator.itemgetter(*names)
        values = picked if len(names) > 1 else lambda row: (picked(row),)

    if dialect.name != "postgresql":
        # as the driver's own statement: the engine's events see it, its errors are SQLAlchemy's
        marks = ", ".join("?" for _ in columns)
        statement = f"INSERT INTO {table.name} ({listed}) VALUES ({marks})"
        connection.exec_driver_sql(statement, [tuple(values(row)) for row in rows])
        return
    statement = f"COPY {table.name} ({listed}) FROM STDIN"
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    # what a statement run through the engine has: its events, and its errors as SQLAlchemy's
    # (a deadlock or a timeout an OperationalError, which callers take for the database away)
    connection.dispatch.before_cursor_execute(connection, cursor, statement, {}, None, True)
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(values(row))
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            statement, None, exc, dialect.loaded_dbapi.Error, dialect=dialect
        ) from exc
    finally:
        cursor.close()


def insert_new_rows(
    session: Session, model: type[Base], rows: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert plain rows as ``insert_rows`` does, each under a new id from the table's own
    sequence; return the ids in the rows' order (what ``INSERT … RETURNING id`` gives, without a
    statement as long as the rows, which the driver parses afresh every time)."""
    if not rows:
        return []
    table = table_of(model)
    connection = session.connection()
    ids: Sequence[int]
    if connection.dialect.name == "postgresql":
        ids = (
            session.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:name, 'id'))"
                    " FROM generate_series(1, :n)"
                ),
                {"name": table.name, "n": len(rows)},
            )
            .scalars()
            .all()
        )
    else:
        # The one writer holds the database (BEGIN IMMEDIATE), and SQLite would number a new
        # row of an INTEGER PRIMARY KEY one past the largest, as this does (the query flushes
        # what the session holds first).
        last = session.execute(select(func.max(table.c.id))).scalar_one() or 0
        ids = range(last + 1, last + 1 + len(rows))
    insert_rows(session, model, [{**row, "id": new} for new, row in zip(ids, rows, strict=True)])
    return list(ids)


def _default_value(default: Any) -> Any:
    """The value of a column's Python-side default (a scalar, or a callable without context)."""
    if default.is_scalar:
        return default.arg
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy wraps a plain function to take a context
    raise ValueError(f"a column default of {type(default).__name__} cannot go by COPY")
