"""the flaggers' bot: Telegram accounts linked to members, their one-time link codes, links held
until a category is pressed, and the bot notices outbox

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tanggap.db.base

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bot_submissions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("principal_id", sa.Uuid(), nullable=False),
        sa.Column("links", sa.Text(), nullable=False),
        sa.Column("created_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["principals.id"],
            name=op.f("fk_bot_submissions_principal_id_principals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_submissions")),
    )
    with op.batch_alter_table("bot_submissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bot_submissions_principal_id"), ["principal_id"], unique=False
        )

    op.create_table(
        "telegram_link_codes",
        sa.Column("principal_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["principals.id"],
            name=op.f("fk_telegram_link_codes_principal_id_principals"),
        ),
        sa.PrimaryKeyConstraint("principal_id", name=op.f("pk_telegram_link_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_telegram_link_codes_code_hash")),
    )
    op.create_table(
        "telegram_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("principal_id", sa.Uuid(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("linked_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["principals.id"],
            name=op.f("fk_telegram_links_principal_id_principals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telegram_links")),
        sa.UniqueConstraint("principal_id", name=op.f("uq_telegram_links_principal_id")),
        sa.UniqueConstraint("telegram_user_id", name=op.f("uq_telegram_links_telegram_user_id")),
    )
    op.create_table(
        "bot_notices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("principal_id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("event", sa.String(length=48), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("link_id", sa.Uuid(), nullable=True),
        sa.Column("sent_message_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["principal_id"], ["principals.id"], name=op.f("fk_bot_notices_principal_id_principals")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_bot_notices_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_notices")),
    )
    with op.batch_alter_table("bot_notices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bot_notices_link_message", ["link_id", "sent_message_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bot_notices_principal_id"), ["principal_id"], unique=False
        )
        batch_op.create_index(
            "ix_bot_notices_report_created", ["report_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_bot_notices_state_next", ["state", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("bot_notices", schema=None) as batch_op:
        batch_op.drop_index("ix_bot_notices_state_next")
        batch_op.drop_index("ix_bot_notices_report_created")
        batch_op.drop_index(batch_op.f("ix_bot_notices_principal_id"))
        batch_op.drop_index("ix_bot_notices_link_message")

    op.drop_table("bot_notices")
    op.drop_table("telegram_links")
    op.drop_table("telegram_link_codes")
    with op.batch_alter_table("bot_submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_submissions_principal_id"))

    op.drop_table("bot_submissions")
