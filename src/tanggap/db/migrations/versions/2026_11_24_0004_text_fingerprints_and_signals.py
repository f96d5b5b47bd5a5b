"""text fingerprints and signals

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 00:35:48.802295
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tanggap.db.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "fingerprint_bands",
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_fingerprint_bands_post_id_posts")
        ),
        sa.PrimaryKeyConstraint("post_id", "band", name=op.f("pk_fingerprint_bands")),
    )
    with op.batch_alter_table("fingerprint_bands", schema=None) as batch_op:
        batch_op.create_index("ix_fingerprint_bands_band_key", ["band", "key"], unique=False)

    op.create_table(
        "post_fingerprints",
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("minhash", sa.String(length=512), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_fingerprints_post_id_posts")
        ),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_post_fingerprints")),
    )
    op.create_table(
        "signals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_signals_post_id_posts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signals")),
    )
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signals_post_id"), ["post_id"], unique=False)

    op.create_table(
        "case_near_duplicates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("applied_decision_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["applied_decision_id"],
            ["decisions.id"],
            name=op.f("fk_case_near_duplicates_applied_decision_id_decisions"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_near_duplicates_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_case_near_duplicates_post_id_posts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_near_duplicates")),
        sa.UniqueConstraint(
            "case_id", "post_id", name=op.f("uq_case_near_duplicates_case_id_post_id")
        ),
    )
    with op.batch_alter_table("case_near_duplicates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_near_duplicates_case_id"), ["case_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("case_near_duplicates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_near_duplicates_case_id"))

    op.drop_table("case_near_duplicates")
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signals_post_id"))

    op.drop_table("signals")
    op.drop_table("post_fingerprints")
    with op.batch_alter_table("fingerprint_bands", schema=None) as batch_op:
        batch_op.drop_index("ix_fingerprint_bands_band_key")

    op.drop_table("fingerprint_bands")
