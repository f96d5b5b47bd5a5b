"""audit events take their transaction's id from a column default (PostgreSQL), so that the
events of many changes go in one multi-row insert

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 07:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TRANSACTION_ID = "(pg_current_xact_id()::text::bigint)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE audit_events ALTER COLUMN xid SET DEFAULT {TRANSACTION_ID}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_events ALTER COLUMN xid DROP DEFAULT")
