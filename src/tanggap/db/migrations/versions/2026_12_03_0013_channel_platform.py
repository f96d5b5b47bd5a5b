"""channels say which platform they live on (null: the configured default) and the platform's
own id of the chat, so that a takedown reaches the platform the channel came from

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite has it for nullable columns): copying the table would trip the
    # foreign keys of every post that points at it.
    op.add_column("channels", sa.Column("platform", sa.String(length=16), nullable=True))
    op.add_column("channels", sa.Column("platform_ref", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("channels", "platform_ref")
    op.drop_column("channels", "platform")
