"""scan jobs

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 01:31:26.999546
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tanggap.db.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "scan_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("bank_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_post_id", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("scanned", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["bank_id"], ["banks.id"], name=op.f("fk_scan_jobs_bank_id_banks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_jobs")),
    )
    with op.batch_alter_table("scan_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_jobs_bank_id"), ["bank_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scan_jobs_state"), ["state"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("scan_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_jobs_state"))
        batch_op.drop_index(batch_op.f("ix_scan_jobs_bank_id"))

    op.drop_table("scan_jobs")
