"""Workflows, published versions, projection tracking and secrets.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "workflows",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("nodes", Json, nullable=False),
        sa.Column("edges", Json, nullable=False),
        sa.Column("latest_published", sa.Integer, nullable=True),
        sa.Column("last_actor", sa.String(200), nullable=True),
    )
    op.create_index("ix_workflows_updated_at", "workflows", ["updated_at"])
    op.create_table(
        "published_versions",
        sa.Column("workflow_id", sa.Uuid, primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("workflow_version", sa.Integer, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("nodes", Json, nullable=False),
        sa.Column("edges", Json, nullable=False),
    )
    op.create_table(
        "projection_tracking",
        sa.Column("projection", sa.String(100), primary_key=True),
        sa.Column("application_name", sa.String(100), nullable=False),
        sa.Column("notification_id", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "secrets",
        sa.Column("ref", sa.String(64), primary_key=True),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("hint", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("secrets", "projection_tracking", "published_versions", "workflows"):
        op.drop_table(table)
