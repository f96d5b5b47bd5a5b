"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tanggap.db.migrate import alembic_config, upgrade
from tanggap.db.session import make_engine
from tanggap.runtime import Runtime
from tanggap.tables import Base


def test_migrated_schema_matches_the_models(runtime: Runtime) -> None:
    with runtime.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def _value(column: sa.Column[Any], n: int) -> Any:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer | sa.Float | sa.Numeric):
        return n
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 11, 24, tzinfo=UTC)
    if isinstance(kind, sa.JSON):
        return "{}"
    if isinstance(kind, sa.LargeBinary):
        return b"x"
    length = getattr(kind, "length", None) or 16
    if length == 32:  # a UUID, stored as 32 hex digits
        return uuid.uuid4().hex
    return f"v{n}"[:length]


def _filling_order(tables: sa.MetaData) -> list[sa.Table]:
    """Parents before children, following the foreign keys a row cannot leave empty."""
    order: list[sa.Table] = []
    left = list(tables.sorted_tables)
    while left:
        done = {t.name for t in order}
        ready = next(
            t
            for t in left
            if all(
                fk.column.table.name in done or fk.column.table is t
                for c in t.columns
                if not c.nullable
                for fk in c.foreign_keys
            )
        )
        order.append(ready)
        left.remove(ready)
    return order


def test_an_upgrade_keeps_the_rows_of_a_database_in_use(tmp_path: Path) -> None:
    """Every migration since 0003 runs over a SQLite database holding a row in every table
    (foreign keys on): a table copied and dropped under other tables' references would fail."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0003")
    engine = make_engine(url)
    tables = sa.MetaData()
    tables.reflect(engine)
    keys: dict[str, dict[str, Any]] = {}
    with engine.begin() as conn:
        for number, table in enumerate(_filling_order(tables), start=1):
            if conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one():
                continue  # seeded by a migration (the audit chain's head)
            row: dict[str, Any] = {}
            for column in table.columns:
                parent = next(iter(column.foreign_keys), None)
                if parent is not None and parent.column.table.name in keys:
                    row[column.name] = keys[parent.column.table.name][parent.column.name]
                elif not column.nullable or column.primary_key:
                    row[column.name] = _value(column, number)
            conn.execute(table.insert().values(row))
            keys[table.name] = row
        counts = {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in tables.sorted_tables
        }
    engine.dispose()
    assert counts["decisions"] == 1 and counts["post_media"] == 1

    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        for name, count in counts.items():
            assert conn.execute(sa.text(f"SELECT COUNT(*) FROM {name}")).scalar_one() == count
        assert conn.execute(sa.text("PRAGMA foreign_key_check")).all() == []
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_posts_stored_before_owners_belong_to_the_only_platform_principal(
    database_url: str,
) -> None:
    """Migration 0008 gives the posts already stored to the platform principal when there is
    one; with two, it cannot tell whose they are and leaves them to the first that resends."""
    tables = Base.metadata.tables
    principals, channels, posts = tables["principals"], tables["channels"], tables["posts"]
    first, second = uuid.uuid4(), uuid.uuid4()
    engine = make_engine(database_url)
    try:
        command.downgrade(alembic_config(database_url), "0007")
        with engine.begin() as conn:
            for principal_id, role in ((first, "platform"), (uuid.uuid4(), "admin")):
                conn.execute(principals.insert().values(id=principal_id, role=role, name=role))
            conn.execute(channels.insert().values(id=1, handle="lama"))
            posted = datetime(2026, 11, 24, tzinfo=UTC)
            conn.execute(
                posts.insert().values(
                    id=1, channel_id=1, message_id=1, posted_at=posted, author_ref="a"
                )
            )
        upgrade(database_url)
        with engine.connect() as conn:
            assert conn.execute(sa.select(posts.c.ingested_by_id)).scalar_one() == first
        command.downgrade(alembic_config(database_url), "0007")
        with engine.begin() as conn:
            conn.execute(principals.insert().values(id=second, role="platform", name="another"))
    finally:
        upgrade(database_url)
    with engine.connect() as conn:
        assert conn.execute(sa.select(posts.c.ingested_by_id)).scalar_one() is None
    engine.dispose()


def test_indexes_built_beforehand_are_kept_by_the_upgrade(database_url: str) -> None:
    """docs/deployment.md: on a large PostgreSQL, 0020's indexes are built CONCURRENTLY before
    the upgrade; the migration finds them and goes on."""
    command.downgrade(alembic_config(database_url), "0016")
    engine = make_engine(database_url)
    try:
        concurrently = "CONCURRENTLY " if engine.dialect.name == "postgresql" else ""
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(
                f"CREATE INDEX {concurrently}ix_reports_received_at ON reports (received_at)"
            )
        upgrade(database_url)
        indexes = {index["name"] for index in sa.inspect(engine).get_indexes("reports")}
        assert "ix_reports_received_at" in indexes
        with engine.connect() as conn:
            version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
        assert version == "0020"
    finally:
        upgrade(database_url)  # the database other tests share stays at the head
        engine.dispose()
