"""flagger organisations are unique by their folded name, in every script

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 19:30:00
"""

from __future__ import annotations

import hashlib
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _key(name: str) -> str:
    # Frozen copy of tanggap.flaggers.service.name_key: a migration must not change with the code.
    folded = " ".join(unicodedata.normalize("NFKC", name).casefold().split())
    return hashlib.sha256(folded.encode()).hexdigest()


def upgrade() -> None:
    # Added in place (no batch): on SQLite a batch would copy and drop "flagger_orgs", which
    # other tables' foreign keys point at. The empty default only fills the rows below.
    op.add_column(
        "flagger_orgs",
        sa.Column("name_key", sa.String(length=64), nullable=False, server_default=""),
    )
    bind = op.get_bind()
    orgs = bind.execute(sa.text("SELECT id, name FROM flagger_orgs ORDER BY created_at")).all()
    seen: set[str] = set()
    for org_id, name in orgs:
        key = _key(name)
        if key in seen:
            # Two organisations that differ only in non-ASCII case were let in before: the later
            # one keeps a key of its own, so nothing is lost; an admin can disable it.
            key = _key(f"{name} {org_id}")
        seen.add(key)
        bind.execute(
            sa.text("UPDATE flagger_orgs SET name_key = :key WHERE id = :id"),
            {"key": key, "id": org_id},
        )
    if bind.dialect.name != "sqlite":
        op.alter_column("flagger_orgs", "name_key", server_default=None)
    op.create_index(op.f("ix_flagger_orgs_name_key"), "flagger_orgs", ["name_key"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_flagger_orgs_name_key"), table_name="flagger_orgs")
    op.drop_column("flagger_orgs", "name_key")
