"""Migration 0006 gives each document row written before index generations its one index,
on SQLite and PostgreSQL: the read table answers retrieval for it at once, before any event
is projected again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, insert

import migrations
from domain.document import DocumentStatus
from domain.knowledge_base import IndexSettings
from infrastructure.database import create_read_engine, migrate
from infrastructure.readmodel.documents import SqlDocumentReadModel
from infrastructure.readmodel.tables import documents
from infrastructure.settings import Settings

# the database starts at revision 0005, not at the head the other tests start from
pytestmark = pytest.mark.empty_database

SETTINGS = IndexSettings("local", "all-MiniLM-L6-v2", 1000, 150)


def upgrade_to(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def old_row(workflow_id: uuid.UUID, status: DocumentStatus) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "id": uuid.uuid4(),
        "workflow_id": workflow_id,
        "node_id": "kb",
        "filename": "a.pdf",
        "content_type": "application/pdf",
        "size_bytes": 10,
        "sha256": "ab" * 32,
        "status": status.value,
        "generation": 2,
        "settings": SETTINGS.to_dict(),
        "page_count": 3,
        "chunk_count": 7,
        "embedding_model": "local/all-MiniLM-L6-v2",
        "created_at": now,
        "updated_at": now,
    }


def test_rows_written_before_generations_get_their_one_index(settings: Settings) -> None:
    settings.data_dir().mkdir(parents=True, exist_ok=True)
    engine = create_read_engine(settings.read_database_url())
    upgrade_to(engine, "0005")
    workflow_id = uuid.uuid4()
    indexed, removed = (
        old_row(workflow_id, DocumentStatus.INDEXED),
        old_row(workflow_id, DocumentStatus.REMOVED),
    )
    # (the table as revision 0005 left it: the columns of today but the three new ones)
    with engine.begin() as conn:
        conn.execute(insert(documents), [indexed, removed])

    migrate(engine)

    model = SqlDocumentReadModel(engine)
    view = model.get(indexed["id"])  # type: ignore[arg-type]
    assert view is not None
    [index] = view.indexes
    assert (index.key, index.request, index.status, index.chunk_count, index.legacy) == (
        SETTINGS.key,
        2,
        DocumentStatus.INDEXED,
        7,
        True,
    )
    assert (view.status, view.draft, view.published, view.chunk_count) == (
        DocumentStatus.INDEXED,
        SETTINGS,
        None,
        7,
    )
    assert model.indexed(workflow_id, "kb", SETTINGS.key) == [(indexed["id"], index)]
    gone = model.get(removed["id"])  # type: ignore[arg-type]
    assert gone is not None and gone.indexes == ()
    engine.dispose()
