"""The account tables (migration 0007). Credentials cannot be rebuilt from the log, so a
projection rebuild leaves them alone; `workspaces` and `workspace_members` are read models."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB

from infrastructure.readmodel.tables import metadata

Json = JSON().with_variant(JSONB(), "postgresql")

# The claim on an email (unique) and the password's argon2id hash.
credentials = Table(
    "credentials",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Which user each account of an OpenID Connect provider (issuer, subject) signs in as
# (migration 0011); the link is also an event of the user, IdentityLinked.
identities = Table(
    "identities",
    metadata,
    Column("issuer", String(500), primary_key=True),
    Column("subject", String(255), primary_key=True),
    Column("user_id", Uuid, nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("family", Uuid, nullable=False, index=True),
    Column("user_id", Uuid, nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("workspace_id", Uuid, nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("scopes", Json, nullable=False),
    Column("stack_id", Uuid, nullable=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    # a publishable token's sites (migration 0011); null for an ordinary API token
    Column("allowed_origins", Json, nullable=True),
)

setup_tokens = Table(
    "setup_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
)

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("version", Integer, nullable=False),
)

workspace_members = Table(
    "workspace_members",
    metadata,
    Column("workspace_id", Uuid, primary_key=True),
    Column("user_id", String(200), primary_key=True),
    Column("role", String(16), nullable=False),
    Index("ix_workspace_members_user", "user_id"),
)
