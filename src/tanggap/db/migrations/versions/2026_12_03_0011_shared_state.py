"""state shared by several processes: bank entry tombstones (and ids never reused), the rule
set's version, the background jobs' heartbeats

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tanggap.db.base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Every process takes the bank entries newer than the last id it holds: on SQLite an id
    # must never be handed out again after its row is deleted (AUTOINCREMENT). The table is
    # copied once; nothing points at it.
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "bank_entries", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass
    op.create_table(
        "bank_entry_removals",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("removed_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_entry_removals")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "rule_set_version",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("counter", sa.Integer(), nullable=False),
        sa.Column("updated_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rule_set_version")),
    )
    op.create_table(
        "job_heartbeats",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("process", sa.String(length=128), nullable=False),
        sa.Column("last_round_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_ok_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("job", "process", name=op.f("pk_job_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("job_heartbeats")
    op.drop_table("rule_set_version")
    op.drop_table("bank_entry_removals")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "bank_entries", recreate="always", table_kwargs={"sqlite_autoincrement": False}
        ):
            pass
