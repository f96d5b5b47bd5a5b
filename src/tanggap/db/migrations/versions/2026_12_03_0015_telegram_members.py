"""Telegram group members whose id is kept sealed, so that a decision can ban them from the group

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tanggap.db.base

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_members",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chat_ref", sa.String(length=64), nullable=False),
        sa.Column("author_ref", sa.String(length=64), nullable=False),
        sa.Column("sealed_id", sa.String(length=128), nullable=False),
        sa.Column("first_seen_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telegram_members")),
        sa.UniqueConstraint(
            "chat_ref", "author_ref", name=op.f("uq_telegram_members_chat_ref_author_ref")
        ),
    )


def downgrade() -> None:
    op.drop_table("telegram_members")
