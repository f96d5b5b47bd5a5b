"""the statements of reasons queued for the EU Transparency Database

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-03 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tanggap.db.base

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eu_statements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("puid", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("maybe_received", sa.Boolean(), nullable=False),
        sa.Column("refused_by", sa.String(length=16), nullable=True),
        sa.Column(
            "refusals",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("eu_uuid", sa.String(length=64), nullable=True),
        sa.Column("reversed_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_eu_statements_decision_id_decisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eu_statements")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_eu_statements_decision_id")),
        sa.UniqueConstraint("puid", name=op.f("uq_eu_statements_puid")),
    )
    with op.batch_alter_table("eu_statements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_eu_statements_state_next", ["state", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("eu_statements", schema=None) as batch_op:
        batch_op.drop_index("ix_eu_statements_state_next")
    op.drop_table("eu_statements")
