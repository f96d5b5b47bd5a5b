"""review console

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 23:33:08.707623
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tanggap.db.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reviewer_clearances",
        sa.Column("principal_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["principals.id"],
            name=op.f("fk_reviewer_clearances_principal_id_principals"),
        ),
        sa.PrimaryKeyConstraint("principal_id", "category", name=op.f("pk_reviewer_clearances")),
    )
    op.create_table(
        "reviewer_languages",
        sa.Column("principal_id", sa.Uuid(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["principals.id"],
            name=op.f("fk_reviewer_languages_principal_id_principals"),
        ),
        sa.PrimaryKeyConstraint("principal_id", "language", name=op.f("pk_reviewer_languages")),
    )
    with op.batch_alter_table("reviewer_languages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reviewer_languages_language"), ["language"], unique=False
        )

    op.create_table(
        "appeals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("appealed_decision_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("filed_by_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("filed_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline", tanggap.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appealed_decision_id"],
            ["decisions.id"],
            name=op.f("fk_appeals_appealed_decision_id_decisions"),
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_appeals_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_appeals_decision_id_decisions")
        ),
        sa.ForeignKeyConstraint(
            ["filed_by_id"], ["principals.id"], name=op.f("fk_appeals_filed_by_id_principals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("appealed_decision_id", name=op.f("uq_appeals_appealed_decision_id")),
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appeals_case_id"), ["case_id"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "priority_factors",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default="[]",
            )
        )
        batch_op.add_column(
            sa.Column("near_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("rank_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("triage_due", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("triaged_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("lead_only", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("escalation_reason", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("escalated_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("breached_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("appeal_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("excluded_reviewer_id", sa.Uuid(), nullable=True))
        batch_op.create_index("ix_cases_state_rank", ["state", "rank_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_triage_due"), ["triage_due"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_excluded_reviewer_id_principals"),
            "principals",
            ["excluded_reviewer_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_appeal_id_appeals"),
            "appeals",
            ["appeal_id"],
            ["id"],
            use_alter=True,
        )

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column(
            "state", existing_type=sa.String(length=16), type_=sa.String(length=20)
        )
    with op.batch_alter_table("post_media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url", sa.String(length=2048), nullable=True))

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("audience", sa.String(length=16), nullable=False, server_default="flagger")
        )
        batch_op.alter_column("org_id", existing_type=sa.Uuid(), nullable=True)

    # Existing cases are triaged again by the triage job; until then they rank by deadline.
    op.execute("UPDATE cases SET near_at = deadline, rank_at = deadline")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column(
            "near_at", existing_type=tanggap.db.base.UTCDateTime(timezone=True), nullable=False
        )
        batch_op.alter_column(
            "rank_at", existing_type=tanggap.db.base.UTCDateTime(timezone=True), nullable=False
        )

    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=20), nullable=False, server_default="final")
        )
        batch_op.add_column(sa.Column("approved_by_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("approved_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("appeal_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_decisions_approved_by_id_principals"),
            "principals",
            ["approved_by_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_decisions_appeal_id_appeals"),
            "appeals",
            ["appeal_id"],
            ["id"],
            use_alter=True,
        )

    with op.batch_alter_table("principals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("paused_at", tanggap.db.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    op.execute(
        "DELETE FROM delivery_attempts WHERE notification_id IN "
        "(SELECT id FROM notifications WHERE org_id IS NULL)"
    )
    op.execute("DELETE FROM notifications WHERE org_id IS NULL")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("org_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("audience")
    with op.batch_alter_table("post_media", schema=None) as batch_op:
        batch_op.drop_column("url")
    with op.batch_alter_table("principals", schema=None) as batch_op:
        batch_op.drop_column("paused_at")

    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_decisions_appeal_id_appeals"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_decisions_approved_by_id_principals"), type_="foreignkey"
        )
        batch_op.drop_column("appeal_id")
        batch_op.drop_column("approved_at")
        batch_op.drop_column("approved_by_id")
        batch_op.drop_column("state")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_cases_appeal_id_appeals"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_cases_excluded_reviewer_id_principals"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_cases_triage_due"))
        batch_op.drop_index("ix_cases_state_rank")
        batch_op.drop_column("excluded_reviewer_id")
        batch_op.drop_column("appeal_id")
        batch_op.drop_column("breached_at")
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("escalation_reason")
        batch_op.drop_column("lead_only")
        batch_op.drop_column("triaged_at")
        batch_op.drop_column("triage_due")
        batch_op.drop_column("rank_at")
        batch_op.drop_column("near_at")
        batch_op.drop_column("priority_factors")

    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeals_case_id"))

    op.drop_table("appeals")
    with op.batch_alter_table("reviewer_languages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviewer_languages_language"))

    op.drop_table("reviewer_languages")
    op.drop_table("reviewer_clearances")
