"""indexes on the times the transparency report and the replay select periods by: reports
received, cases opened, decisions taken, appeals filed, signals raised

Revision ID: 0020
Revises: 0016
Create Date: 2026-12-03 19:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0016"
branch_labels = None
depends_on = None

INDEXED = [
    ("reports", "received_at"),
    ("cases", "opened_at"),
    ("decisions", "decided_at"),
    ("appeals", "filed_at"),
    ("signals", "created_at"),
]


def upgrade() -> None:
    for table, column in INDEXED:
        # Built beforehand (CONCURRENTLY, docs/deployment.md): found and kept.
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False, if_not_exists=True)


def downgrade() -> None:
    for table, column in reversed(INDEXED):
        op.drop_index(f"ix_{table}_{column}", table_name=table)
