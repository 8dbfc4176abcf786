"""The audit log's read tables: one row per stored event of a workspace, in words, and the
stacks it has seen. The `audit` projection fills them from the start of the log.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("workspace_id", sa.Uuid, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(20), nullable=False),
        sa.Column("subject_id", sa.Uuid, nullable=False),
        sa.Column("subject_version", sa.Integer, nullable=False),
        sa.Column("stack_id", sa.Uuid, nullable=True),
        sa.Column("stack_name", sa.String(200), nullable=True),
        sa.Column("member", sa.String(200), nullable=True),
        sa.Column("summary", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_entries_workspace", "audit_entries", ["workspace_id", "position"])
    op.create_index(
        "ix_audit_entries_actor", "audit_entries", ["workspace_id", "actor", "position"]
    )
    op.create_index(
        "ix_audit_entries_stack", "audit_entries", ["workspace_id", "stack_id", "position"]
    )
    op.create_index("ix_audit_entries_kind", "audit_entries", ["workspace_id", "kind", "position"])
    op.create_index("ix_audit_entries_at", "audit_entries", ["workspace_id", "at"])
    op.create_table(
        "audit_stacks",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("workspace_id", sa.Uuid, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_table("audit_stacks")
    op.drop_table("audit_entries")
