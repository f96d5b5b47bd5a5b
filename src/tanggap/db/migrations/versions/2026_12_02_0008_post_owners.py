"""the platform principal that sent each post (its owner)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 19:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite adds the column with its REFERENCES in place: a batch would copy and drop "posts",
    # which other tables' foreign keys point at.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE posts ADD COLUMN ingested_by_id CHAR(32) "
            "CONSTRAINT fk_posts_ingested_by_id_principals REFERENCES principals (id)"
        )
    else:
        op.add_column("posts", sa.Column("ingested_by_id", sa.Uuid(), nullable=True))
        op.create_foreign_key(
            op.f("fk_posts_ingested_by_id_principals"),
            "posts",
            "principals",
            ["ingested_by_id"],
            ["id"],
        )
    op.create_index(op.f("ix_posts_ingested_by_id"), "posts", ["ingested_by_id"], unique=False)
    # Posts stored before owners were recorded belong to the platform principal when there is
    # only one; with several, each post goes to the first of them that sends it again.
    op.execute(
        "UPDATE posts SET ingested_by_id = "
        "(SELECT id FROM principals WHERE role = 'platform') "
        "WHERE (SELECT COUNT(*) FROM principals WHERE role = 'platform') = 1"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_posts_ingested_by_id"), table_name="posts")
    # The column's foreign key goes with it (SQLite reflects the in-place one without its name).
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("ingested_by_id")
