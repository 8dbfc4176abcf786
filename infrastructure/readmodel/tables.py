"""The read-side tables (and the secrets table), as SQLAlchemy Core; Alembic migrates them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    false,
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
    # the workspace the stack belongs to (migration 0010: the default one for older rows)
    Column("workspace_id", Uuid, nullable=True, index=True),
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

# Events a projection could not apply, by aggregate: it went on past them (migration 0007).
projection_failures = Table(
    "projection_failures",
    metadata,
    Column("projection", String(100), primary_key=True),
    Column("notification_id", BigInteger, primary_key=True),
    Column("originator_id", Uuid, nullable=False, index=True),
    Column("originator_version", Integer, nullable=False),
    Column("topic", String(300), nullable=False),
    Column("error", Text, nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False),
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

chat_sessions = Table(
    "chat_sessions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("workflow_id", Uuid, nullable=False, index=True),
    Column("published_version", Integer, nullable=False),  # 0 for a draft session
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("message_count", Integer, nullable=False),
    # questions with neither an answer nor a failure yet
    Column("waiting", Integer, nullable=False, index=True),
    Column("last_actor", String(200), nullable=True),
    # who started it (migration 0010; null in older rows: the local owner, the only one then)
    Column("author", String(200), nullable=True),
    # a preview of the draft (migration 0005; false in rows written before it)
    Column("draft", Boolean, nullable=False, server_default=false()),
)

chat_messages = Table(
    "chat_messages",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("session_id", Uuid, nullable=False),
    Column("seq", Integer, nullable=False),  # the session version that added it
    Column("role", String(16), nullable=False),
    Column("content", Text, nullable=False),
    Column("sources", Json, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("reply_to", Uuid, nullable=True),
    Column("model", String(200), nullable=True),
    Column("prompt_tokens", Integer, nullable=True),
    Column("completion_tokens", Integer, nullable=True),
    Column("latency_ms", Integer, nullable=True),
    Column("status", String(16), nullable=False),
    Column("error_code", String(50), nullable=True),
    Column("error_message", Text, nullable=True),
    # An answer's web pages; null in rows written before answers cited them (migration 0004).
    Column("web_sources", Json, nullable=True),
    # The graph that gave an answer or failed a question: the workflow version and, in a
    # published session, the published number (migration 0005; null when not recorded).
    Column("workflow_version", Integer, nullable=True),
    Column("published_version", Integer, nullable=True),
    Index("ix_chat_messages_session_seq", "session_id", "seq"),
)

usage = Table(
    "usage",
    metadata,
    Column("workflow_id", Uuid, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("model", String(200), primary_key=True),
    Column("answers", Integer, nullable=False),
    Column("prompt_tokens", BigInteger, nullable=False),
    Column("completion_tokens", BigInteger, nullable=False),
    Column("cost_usd", Float, nullable=True),  # null: no price for the model
)

# The rating each rated answer has now (migration 0011): its last AnswerRated, by the
# session's stack for the stack's feedback; a withdrawn rating has no row.
answer_ratings = Table(
    "answer_ratings",
    metadata,
    Column("message_id", Uuid, primary_key=True),  # the answer's
    Column("session_id", Uuid, nullable=False),
    Column("workflow_id", Uuid, nullable=False),
    Column("rating", String(8), nullable=False),  # UP | DOWN
    Column("note", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("rated_at", DateTime(timezone=True), nullable=False),
    Index("ix_answer_ratings_workflow_rating", "workflow_id", "rating", "rated_at"),
)

# Not a read model: which process answers which chat session, for as long as it renews.
chat_leases = Table(
    "chat_leases",
    metadata,
    Column("session_id", Uuid, primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

documents = Table(
    "documents",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("workflow_id", Uuid, nullable=False),
    Column("node_id", String(100), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    # status, the counts and the error are those of the shown generation: the draft's
    Column("status", String(16), nullable=False),
    Column("generation", Integer, nullable=False),  # the shown generation's request number
    Column("settings", Json, nullable=False),  # the shown IndexSettings
    Column("page_count", Integer, nullable=True),
    Column("chunk_count", Integer, nullable=True),
    Column("embedding_model", String(300), nullable=True),
    Column("failed_stage", String(20), nullable=True),
    Column("error", Text, nullable=True),
    # What its knowledge base asks for, and each generation's state (migration 0006).
    Column("draft_settings", Json, nullable=True),
    Column("published_settings", Json, nullable=True),
    Column("indexes", Json, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_actor", String(200), nullable=True),
    Index("ix_documents_workflow_node", "workflow_id", "node_id"),
)

# Not a read model: the audit's hash chain over the event log (migration 0007). Rebuilding it
# from the log would bless whatever was altered there, so nothing rebuilds it.
audit_chain = Table(
    "audit_chain",
    metadata,
    Column(
        "seq", BigInteger, primary_key=True, autoincrement=False
    ),  # 1, 2, 3…: the chain has no gaps
    Column("notification_id", BigInteger, nullable=False, unique=True),
    Column("originator_id", String(64), nullable=False),
    Column("originator_version", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),  # hex SHA-256
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("notification_id", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The audit log: one row per stored event of a workspace, in words (migration 0011).
audit_entries = Table(
    "audit_entries",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),  # notification id
    Column("workspace_id", Uuid, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=True),
    Column("kind", String(100), nullable=False),
    Column("subject", String(20), nullable=False),  # stack, document, chat, workspace
    Column("subject_id", Uuid, nullable=False),
    Column("subject_version", Integer, nullable=False),
    Column("stack_id", Uuid, nullable=True),
    Column("stack_name", String(200), nullable=True),  # as it was named then
    Column("member", String(200), nullable=True),  # the user an access event is about
    Column("summary", Text, nullable=False),
    Index("ix_audit_entries_workspace", "workspace_id", "position"),
    Index("ix_audit_entries_actor", "workspace_id", "actor", "position"),
    Index("ix_audit_entries_stack", "workspace_id", "stack_id", "position"),
    Index("ix_audit_entries_kind", "workspace_id", "kind", "position"),
    Index("ix_audit_entries_at", "workspace_id", "at"),
)

# The stacks the audit has seen (deleted ones too): the workspace and name of a document's
# or a chat session's stack, without loading the stack.
audit_stacks = Table(
    "audit_stacks",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("workspace_id", Uuid, nullable=False),
    Column("name", String(200), nullable=False),
    Column("deleted", Boolean, nullable=False, server_default=false()),
)

READ_MODELS = {"workflows": (workflows, published_versions)}
