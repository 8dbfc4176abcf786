"""Events a projection could not apply, recorded by aggregate so that it goes on past them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projection_failures",
        sa.Column("projection", sa.String(100), primary_key=True),
        sa.Column("notification_id", sa.BigInteger, primary_key=True),
        sa.Column("originator_id", sa.Uuid, nullable=False, index=True),
        sa.Column("originator_version", sa.Integer, nullable=False),
        sa.Column("topic", sa.String(300), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("projection_failures")
