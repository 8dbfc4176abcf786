"""The rating each rated answer has now, for the messages of a chat and a stack's feedback.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_ratings",
        sa.Column("message_id", sa.Uuid, primary_key=True),
        sa.Column("session_id", sa.Uuid, nullable=False),
        sa.Column("workflow_id", sa.Uuid, nullable=False),
        sa.Column("rating", sa.String(8), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_answer_ratings_workflow_rating",
        "answer_ratings",
        ["workflow_id", "rating", "rated_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_answer_ratings_workflow_rating", table_name="answer_ratings")
    op.drop_table("answer_ratings")
