"""Documents keep one index per generation (the settings in use by the draft and by the
published version), and what their knowledge base asks for.

Rows written before hold the one index a document had: it becomes its only generation,
marked legacy when indexed (its vectors keep the layout they were written in). The
published version's settings are not known yet: the ingestion fills them in.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from domain.document import DocumentIndex, DocumentStatus
from domain.knowledge_base import IndexSettings

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("documents", sa.Column("draft_settings", Json, nullable=True))
    op.add_column("documents", sa.Column("published_settings", Json, nullable=True))
    op.add_column(
        "documents", sa.Column("indexes", Json, nullable=False, server_default=sa.text("'[]'"))
    )
    documents = sa.table(
        "documents",
        sa.column("id", sa.Uuid),
        sa.column("status", sa.String),
        sa.column("generation", sa.Integer),
        sa.column("settings", Json),
        sa.column("page_count", sa.Integer),
        sa.column("chunk_count", sa.Integer),
        sa.column("embedding_model", sa.String),
        sa.column("failed_stage", sa.String),
        sa.column("error", sa.Text),
        sa.column("draft_settings", Json),
        sa.column("indexes", Json),
    )
    conn = op.get_bind()
    for row in conn.execute(sa.select(documents)).all():
        conn.execute(
            sa.update(documents)
            .where(documents.c.id == row.id)
            .values(draft_settings=row.settings, indexes=_indexes(row))
        )


def _indexes(row: sa.Row) -> list[dict]:  # type: ignore[type-arg]
    if row.status == DocumentStatus.REMOVED.value:
        return []  # its vectors are gone, and nothing asks a removed document
    index = DocumentIndex(
        IndexSettings.from_dict(row.settings),
        request=row.generation,
        status=DocumentStatus(row.status),
        page_count=row.page_count,
        chunk_count=row.chunk_count,
        embedding_model=row.embedding_model,
        failed_stage=row.failed_stage,
        error=row.error,
        legacy=row.status == DocumentStatus.INDEXED.value,
    )
    return [index.to_dict()]


def downgrade() -> None:
    op.drop_column("documents", "indexes")
    op.drop_column("documents", "published_settings")
    op.drop_column("documents", "draft_settings")
