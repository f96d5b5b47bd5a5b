"""text bank entries, rule scans, images waiting for PDQ, decisions that fill a bank

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 02:22:00.636752
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tanggap.db.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "rule_versions",
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("updated_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("rule_id", name=op.f("pk_rule_versions")),
    )
    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.alter_column(
            "value",
            existing_type=sa.String(length=64),
            type_=sa.String(length=512),
            existing_nullable=False,
        )
    with op.batch_alter_table("post_media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pdq_quality", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("pdq_pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # SQLite adds the column with its REFERENCES in place: a batch would copy and drop
    # "decisions", which other tables' foreign keys point at.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE decisions ADD COLUMN bank_id CHAR(32) "
            "CONSTRAINT fk_decisions_bank_id_banks REFERENCES banks (id)"
        )
    else:
        op.add_column("decisions", sa.Column("bank_id", sa.Uuid(), nullable=True))
        op.create_foreign_key(
            op.f("fk_decisions_bank_id_banks"), "decisions", "banks", ["bank_id"], ["id"]
        )
    with op.batch_alter_table("scan_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rule_ids", JSON, nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("upto_post_id", sa.BigInteger(), nullable=True))
        batch_op.alter_column("bank_id", existing_type=sa.Uuid(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("scan_jobs", schema=None) as batch_op:
        batch_op.alter_column("bank_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("upto_post_id")
        batch_op.drop_column("rule_ids")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_decisions_bank_id_banks"), type_="foreignkey")
        batch_op.drop_column("bank_id")
    with op.batch_alter_table("post_media", schema=None) as batch_op:
        batch_op.drop_column("pdq_pending")
        batch_op.drop_column("pdq_quality")
    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.alter_column(
            "value",
            existing_type=sa.String(length=512),
            type_=sa.String(length=64),
            existing_nullable=False,
        )
    op.drop_table("rule_versions")
