"""Chat messages keep the web pages an answer was given (title, url, snippet).

Nullable: rows written before it have none, and the projection reads null as no pages.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("chat_messages", sa.Column("web_sources", Json, nullable=True))


def downgrade() -> None:
    op.drop_column("chat_messages", "web_sources")
