"""The read-side tables (and the secrets table), as SQLAlchemy Core; Alembic migrates them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()
Json = JSON().with_variant(JSONB(), "postgresql")

workflows = Table(
    "workflows",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, index=True),
    Column("nodes", Json, nullable=False),
    Column("edges", Json, nullable=False),
    Column("latest_published", Integer, nullable=True),
    Column("last_actor", String(200), nullable=True),
)

published_versions = Table(
    "published_versions",
    metadata,
    Column("workflow_id", Uuid, primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("workflow_version", Integer, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False),
    Column("nodes", Json, nullable=False),
    Column("edges", Json, nullable=False),
)

projection_tracking = Table(
    "projection_tracking",
    metadata,
    Column("projection", String(100), primary_key=True),
    Column("application_name", String(100), nullable=False),
    Column("notification_id", BigInteger, nullable=False),
)

# Not a read model: secrets cannot be rebuilt from the log, so a rebuild leaves them alone.
secrets = Table(
    "secrets",
    metadata,
    Column("ref", String(64), primary_key=True),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("hint", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

READ_MODELS = {"workflows": (workflows, published_versions)}
