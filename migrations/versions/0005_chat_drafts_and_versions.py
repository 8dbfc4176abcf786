"""Draft chat sessions, and the workflow version that gave each answer.

`chat_sessions.draft`: false for rows written before draft previews, which were all on a
published version. `chat_messages.workflow_version` and `published_version`: null in rows
written before answers recorded them (the projection reads null as not known).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "chat_sessions",
        sa.Column("draft", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column("chat_messages", sa.Column("workflow_version", sa.Integer, nullable=True))
    op.add_column("chat_messages", sa.Column("published_version", sa.Integer, nullable=True))


def downgrade() -> None:
    op.drop_column("chat_messages", "published_version")
    op.drop_column("chat_messages", "workflow_version")
    op.drop_column("chat_sessions", "draft")
