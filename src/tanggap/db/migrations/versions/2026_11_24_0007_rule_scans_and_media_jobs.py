"""text bank entries, rule scans, media hash jobs, decisions that fill a bank

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
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rule_versions",
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("updated_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("rule_id", name=op.f("pk_rule_versions")),
    )
    op.create_table(
        "media_hash_jobs",
        sa.Column("id", ID, nullable=False),
        sa.Column("media_id", ID, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"], ["post_media.id"], name=op.f("fk_media_hash_jobs_media_id_post_media")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_hash_jobs")),
        sa.UniqueConstraint("media_id", name=op.f("uq_media_hash_jobs_media_id")),
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
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bank_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_decisions_bank_id_banks"), "banks", ["bank_id"], ["id"]
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
        batch_op.drop_column("pdq_quality")
    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.alter_column(
            "value",
            existing_type=sa.String(length=512),
            type_=sa.String(length=64),
            existing_nullable=False,
        )
    op.drop_table("media_hash_jobs")
    op.drop_table("rule_versions")
