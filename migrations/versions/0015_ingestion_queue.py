"""The ingestion task queue's tables (procrastinate's schema), on PostgreSQL only: there,
ingestion jobs are queued and run by any number of worker processes. The embedded default
(SQLite) runs ingestion in-process and has no queue.

The schema is the one the pinned procrastinate version ships, applied once (its tables
exist: nothing to do), inside this migration's transaction and under the migrations' lock,
so servers and `genai-stack migrate` started at once apply it exactly once. A later
procrastinate version with a schema change comes with a migration of ours applying its
migration files.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if sa.inspect(bind).has_table("procrastinate_jobs"):
        return
    from procrastinate.schema import SchemaManager

    # the driver's own connection: the schema is many statements, with `%` in them
    bind.connection.driver_connection.execute(SchemaManager.get_schema())


def downgrade() -> None:
    pass  # the queue's tables stay: dropping them would lose queued jobs
