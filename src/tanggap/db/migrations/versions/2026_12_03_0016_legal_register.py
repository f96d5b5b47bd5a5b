"""the legal register: authorities' requests, their documents' digests, the letters answering
them, and the signed instructions a granted data request produces

Revision ID: 0016
Revises: 0018
Create Date: 2026-12-03 16:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tanggap.db.base

revision = "0016"
down_revision = "0018"
branch_labels = None
depends_on = None


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, tanggap.db.base.UTCDateTime(timezone=True), nullable=nullable)


def _principal(table: str, column: str, nullable: bool) -> list[Any]:
    return [
        sa.Column(column, sa.Uuid(), nullable=nullable),
        sa.ForeignKeyConstraint(
            [column], ["principals.id"], name=op.f(f"fk_{table}_{column}_principals")
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "legal_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("authority", sa.String(length=300), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("legal_basis", sa.String(length=500), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        _time("received_at"),
        sa.Column(
            "scope",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("state", sa.String(length=16), nullable=False),
        *_principal("legal_requests", "registered_by_id", nullable=False),
        _time("registered_at"),
        *_principal("legal_requests", "assessed_by_id", nullable=True),
        _time("assessed_at", nullable=True),
        sa.Column("court_order", sa.Boolean(), nullable=True),
        sa.Column("names_suspect", sa.Boolean(), nullable=True),
        sa.Column("finding", sa.Text(), nullable=True),
        *_principal("legal_requests", "decided_by_id", nullable=True),
        _time("decided_at", nullable=True),
        sa.Column("policy", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_requests")),
    )
    with op.batch_alter_table("legal_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_requests_country"), ["country"], unique=False)
        batch_op.create_index("ix_legal_requests_received_at", ["received_at"], unique=False)
    op.create_table(
        "legal_documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["legal_requests.id"],
            name=op.f("fk_legal_documents_request_id_legal_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_documents")),
        sa.UniqueConstraint(
            "request_id", "position", name=op.f("uq_legal_documents_request_id_position")
        ),
    )
    op.create_table(
        "legal_letters",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        _time("rendered_at"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["legal_requests.id"],
            name=op.f("fk_legal_letters_request_id_legal_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_letters")),
        sa.UniqueConstraint(
            "request_id", "language", name=op.f("uq_legal_letters_request_id_language")
        ),
    )
    op.create_table(
        "legal_instructions",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        _time("signed_at"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["legal_requests.id"],
            name=op.f("fk_legal_instructions_request_id_legal_requests"),
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_legal_instructions")),
    )


def downgrade() -> None:
    op.drop_table("legal_instructions")
    op.drop_table("legal_letters")
    op.drop_table("legal_documents")
    with op.batch_alter_table("legal_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_legal_requests_received_at")
        batch_op.drop_index(batch_op.f("ix_legal_requests_country"))
    op.drop_table("legal_requests")
