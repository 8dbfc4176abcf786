"""Stacks belong to a workspace, chat sessions to their author.

`workflows.workspace_id`: older rows get the default workspace (every stack created before
workspaces belongs to it, as its events say). `chat_sessions.author`: null in older rows,
read as the local owner (the only actor before accounts).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

DEFAULT_WORKSPACE = uuid.UUID("0b1d2c9e-6a47-4c1e-9f0a-3d5e2a7c4b10")  # domain.workspace, as of now


def upgrade() -> None:
    with op.batch_alter_table("workflows") as batch:
        batch.add_column(sa.Column("workspace_id", sa.Uuid, nullable=True))
        batch.create_index("ix_workflows_workspace_id", ["workspace_id"])
    workflows = sa.table("workflows", sa.column("workspace_id", sa.Uuid))
    op.execute(
        workflows.update()
        .where(workflows.c.workspace_id.is_(None))
        .values(workspace_id=DEFAULT_WORKSPACE)
    )
    with op.batch_alter_table("chat_sessions") as batch:
        batch.add_column(sa.Column("author", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chat_sessions") as batch:
        batch.drop_column("author")
    with op.batch_alter_table("workflows") as batch:
        batch.drop_index("ix_workflows_workspace_id")
        batch.drop_column("workspace_id")
