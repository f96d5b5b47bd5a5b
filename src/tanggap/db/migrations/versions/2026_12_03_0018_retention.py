"""Retention: audit events whose free text can be purged, and pseudonyms with their key's id

Revision ID: 0018
Revises: 0019
Create Date: 2026-12-03 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tanggap.db.base

revision = "0018"
down_revision = "0019"
branch_labels = None
depends_on = None

# The id of the key every pseudonym was made with before key rotation (pseudonyms.DEFAULT_KEY_ID).
DEFAULT_KEY_ID = "default"


def upgrade() -> None:
    # Columns are added in place (ALTER TABLE ... ADD COLUMN): a batch would copy and drop
    # "posts" on SQLite, which other tables' foreign keys point at.
    # Events before this migration keep both empty: their data stays hashed whole.
    op.add_column("audit_events", sa.Column("free_text", sa.Text(), nullable=True))
    op.add_column(
        "audit_events",
        sa.Column("purged_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=True),
    )
    # Every pseudonym so far was made with the secret key: the default ring's only key.
    for table in ("posts", "telegram_members"):
        op.add_column(
            table,
            sa.Column(
                "key_id", sa.String(length=32), nullable=False, server_default=DEFAULT_KEY_ID
            ),
        )
    op.add_column("reports", sa.Column("key_id", sa.String(length=32), nullable=True))
    op.execute(
        sa.text("UPDATE reports SET key_id = :key WHERE reporter_ref IS NOT NULL").bindparams(
            key=DEFAULT_KEY_ID
        )
    )
    op.create_table(
        "pseudonym_links",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("current_ref", sa.String(length=64), nullable=False),
        sa.Column("linked_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_pseudonym_links")),
    )
    op.create_index(
        op.f("ix_pseudonym_links_current_ref"), "pseudonym_links", ["current_ref"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_pseudonym_links_current_ref"), table_name="pseudonym_links")
    op.drop_table("pseudonym_links")
    # Dropped in place (ALTER TABLE ... DROP COLUMN, SQLite 3.35 and later), for the reason the
    # upgrade adds them in place.
    for table, column in (
        ("reports", "key_id"),
        ("telegram_members", "key_id"),
        ("posts", "key_id"),
        ("audit_events", "purged_at"),
        ("audit_events", "free_text"),
    ):
        op.drop_column(table, column)
