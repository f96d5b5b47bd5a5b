"""audit events are appended unsealed (no lock on the chain head); the sealer chains them and
signs checkpoints

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COLUMNS = "occurred_at, actor, action, subject_type, subject_id, data, seq, prev_hash, hash"


def _event_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    ]


def _set_aside(table: str, primary_key: str) -> None:
    # The table is rebuilt under its own name; its indexes and primary key give their names up
    # first (index names are per database, on both engines).
    op.drop_index(op.f(f"ix_{table}_action"), table_name=table)
    op.drop_index(op.f(f"ix_{table}_subject_id"), table_name=table)
    op.rename_table(table, f"{table}_old")
    if op.get_bind().dialect.name != "sqlite":
        op.execute(f"ALTER TABLE {table}_old RENAME CONSTRAINT {primary_key} TO {primary_key}_old")


def _index(table: str) -> None:
    op.create_index(op.f(f"ix_{table}_action"), table, ["action"], unique=False)
    op.create_index(op.f(f"ix_{table}_subject_id"), table, ["subject_id"], unique=False)


def upgrade() -> None:
    _set_aside("audit_events", "pk_audit_events")
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=True),
        *_event_columns(),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_events_seq")),
    )
    # Every event written so far is sealed already: it keeps its place, and its id is its place.
    op.execute(
        f"INSERT INTO audit_events (id, {COLUMNS}) SELECT seq, {COLUMNS} FROM audit_events_old"
    )
    if op.get_bind().dialect.name != "sqlite":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('audit_events', 'id'), "
            "COALESCE((SELECT MAX(id) FROM audit_events), 0) + 1, false)"
        )
    op.drop_table("audit_events_old")
    _index("audit_events")
    op.create_index(
        "ix_audit_events_unsealed",
        "audit_events",
        ["xid", "id"],
        unique=False,
        postgresql_where=sa.text("seq IS NULL"),
        sqlite_where=sa.text("seq IS NULL"),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_checkpoints")),
    )


def downgrade() -> None:
    bind = op.get_bind()
    unsealed = bind.execute(sa.text("SELECT COUNT(*) FROM audit_events WHERE seq IS NULL"))
    if unsealed.scalar_one():
        raise RuntimeError(
            "audit events wait to be sealed: run the sealer (tanggap audit seal) before going back"
        )
    op.drop_table("audit_checkpoints")
    op.drop_index("ix_audit_events_unsealed", table_name="audit_events")
    _set_aside("audit_events", "pk_audit_events")
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        *_event_columns(),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
    )
    op.execute(f"INSERT INTO audit_events ({COLUMNS}) SELECT {COLUMNS} FROM audit_events_old")
    op.drop_table("audit_events_old")
    _index("audit_events")
