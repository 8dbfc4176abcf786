"""The `genai-stack` command line."""

from __future__ import annotations

import ipaddress
import signal
import socket
import threading
from typing import TYPE_CHECKING, Any

import typer

from infrastructure.secret_keys import SecretKeyError
from interfaces.audit_commands import audit
from interfaces.secrets_commands import secrets
from interfaces.users_cli import users_cli

if TYPE_CHECKING:
    from infrastructure.settings import Settings

REBUILD_JOBS_SECONDS = 3600.0  # a rebuild waits that long for the documents' jobs

app = typer.Typer(help="GenAI Stack: build, publish and chat with question-answering workflows.")
projections = typer.Typer(help="Read models built from the event log.")
app.add_typer(projections, name="projections")
snapshots = typer.Typer(help="Snapshots of long-lived aggregates in the event store.")
app.add_typer(snapshots, name="snapshots")
app.add_typer(audit, name="audit")
app.add_typer(secrets, name="secrets")
app.add_typer(users_cli, name="users")
vectors = typer.Typer(help="The vector index in Chroma.")
app.add_typer(vectors, name="vectors")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on (0: any free one, printed)."),
) -> None:
    """Applies pending migrations, runs the projections, serves the API and the web app."""
    import uvicorn

    from infrastructure.logging import configure_logging
    from infrastructure.settings import Settings
    from infrastructure.tracing import configure_tracing
    from interfaces.app import create_app

    settings = Settings()
    if settings.genai_outbound_loopback is None:  # the local single-user mode: Ollama on localhost
        settings = settings.model_copy(update={"genai_outbound_loopback": _is_loopback(host)})
    configure_logging(settings.genai_log_level)
    configure_tracing()  # OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set
    _check_keys(settings)
    # bound here rather than by uvicorn, so that the port printed is the one bound, also
    # when the system chose it (a test or a supervisor starting several servers at once)
    listener = socket.create_server(
        (host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET
    )
    port = listener.getsockname()[1]
    settings.genai_host = host  # sign-in is required unless this is loopback
    settings.genai_public_url = settings.genai_public_url or f"http://{_url_host(host)}:{port}"
    mode = "PostgreSQL" if settings.uses_postgres else f"embedded ({settings.data_dir()})"
    typer.echo(f"GenAI Stack on {mode}: open http://{host}:{port}/  (GraphiQL at /graphql)")
    web_app = create_app(settings)
    config = uvicorn.Config(
        web_app,
        log_level="warning",
        log_config=None,  # uvicorn's lines through ours: JSON, with the request id
        ws="websockets",
        # the socket's frames are small GraphQL results (a few tokens each): compressing
        # them costs the server more CPU than it saves bandwidth
        ws_per_message_deflate=False,
    )
    _draining_server()(config, web_app, settings.genai_shutdown_grace_seconds).run(
        sockets=[listener]
    )


def _draining_server() -> type:
    import asyncio

    import uvicorn

    from interfaces.app import drain

    class DrainingServer(uvicorn.Server):
        """uvicorn, stopping gracefully on SIGTERM (Kubernetes stopping a pod): first the
        app drains (`interfaces.app.drain`: /readyz 503, answers in flight finish within
        the grace period), then uvicorn's own shutdown closes the WebSockets with 1012 and
        waits for the HTTP requests. SIGINT (Ctrl-C) and a second SIGTERM stop at once."""

        def __init__(self, config: uvicorn.Config, app: Any, grace_seconds: float) -> None:
            super().__init__(config)
            self.web_app, self.grace_seconds = app, grace_seconds
            self.loop: asyncio.AbstractEventLoop | None = None
            self.draining: asyncio.Task[None] | None = None

        async def serve(self, sockets: Any = None) -> None:
            self.loop = asyncio.get_running_loop()
            await super().serve(sockets)

        def handle_exit(self, sig: int, frame: Any) -> None:
            if sig != signal.SIGTERM or self.draining is not None or self.loop is None:
                super().handle_exit(sig, frame)
                return
            self._captured_signals.append(sig)  # raised again once shut down, as uvicorn does
            self.loop.call_soon_threadsafe(self._start_drain)

        def _start_drain(self) -> None:
            if self.draining is None:
                self.draining = asyncio.ensure_future(self._drain())

        async def _drain(self) -> None:
            try:
                await drain(self.web_app, self.grace_seconds)
            finally:
                self.should_exit = True

    return DrainingServer


def _check_keys(settings: Settings) -> None:
    """A key setting that cannot work stops the start with its reason, before the server
    binds (in the server's startup it would be a traceback)."""
    from infrastructure.secret_keys import KeyRing

    key = settings.genai_secret_key
    KeyRing(key.get_secret_value() if key else None, settings.data_dir())


@app.command()
def migrate() -> None:
    """Brings the database schema up to date (the read tables' Alembic migrations and the
    event store's tables) and exits: a deployment's step before new servers start (a Helm
    pre-upgrade hook). Servers also do it at start, under the same lock, so it is idempotent."""
    from alembic.migration import MigrationContext

    from application.eventlog.log import EventLog
    from infrastructure.database import create_read_engine, schema_lock
    from infrastructure.database import migrate as upgrade
    from infrastructure.settings import Settings
    from interfaces.bootstrap import _conninfo

    settings = Settings()
    with schema_lock(_conninfo(settings)):
        engine = create_read_engine(settings.read_database_url(), pool_size=1)
        try:
            upgrade(engine)
            with engine.connect() as conn:
                revision = MigrationContext.configure(conn).get_current_revision()
        finally:
            engine.dispose()
        EventLog(env=settings.event_store_env()).close()
    typer.echo(f"schema at revision {revision}")


@app.command()
def schema() -> None:
    """Prints the served GraphQL schema (SDL)."""
    from interfaces.graphql.schema import schema as served

    typer.echo(served.as_str())


@projections.command("rebuild")
def rebuild() -> None:
    """Drops every read model and the vector index, and rebuilds them from the event log
    (documents are indexed again from their stored files)."""
    from infrastructure.readmodel import failures
    from infrastructure.readmodel.rebuild import IN_DATABASE, rebuild_all
    from infrastructure.settings import Settings
    from interfaces.bootstrap import bootstrap

    settings = Settings()
    services = bootstrap(settings)
    try:
        # the read models in one pass over the log (some by the database), then the ingestion
        paths: dict[str, str] = {}
        for name, count in rebuild_all(services.workers, paths):
            if paths.get(name) == IN_DATABASE:
                typer.echo(f"{name}: rebuilt by the database from {count} events")
            else:
                typer.echo(f"{name}: replayed {count} events")
        if services.queue is not None:  # with PostgreSQL the documents' jobs were queued
            services.start_ingestion_jobs(settings.genai_ingestion_workers or 2)
            if services.queue.wait_empty(REBUILD_JOBS_SECONDS):
                typer.echo("ingestion: every queued document indexed again")
            else:
                typer.echo("ingestion: documents still queued; the workers go on with them")
        for name, failed in failures.summary(services.read_db).items():
            typer.echo(
                f"{name}: {failed['events']} events of {failed['aggregates']} aggregates could "
                "not be applied and were gone past (table projection_failures)"
            )
    finally:
        services.stop()


@vectors.command("upgrade")
def upgrade_vectors() -> None:
    """Moves vectors stored by versions that kept one Chroma collection per embedding model
    into a collection per knowledge base generation, and exits. Servers do it too when they
    first open the index (that first use waits for it); this does it ahead of the first
    question. With the embedded Chroma, stop the server first: one process at a time may
    open its directory."""
    from infrastructure.settings import Settings
    from interfaces.bootstrap import bootstrap

    services = bootstrap(Settings())
    try:
        moved = services.index.upgrade_layout()  # type: ignore[attr-defined]
    finally:
        services.stop()
    typer.echo(f"vectors: {moved} moved into their knowledge bases' collections")


@snapshots.command("rebuild")
def rebuild_snapshots() -> None:
    """Replays every workflow, chat and document from its events and rewrites its snapshots
    (one each 100 events), deleting the ones it had: for snapshots an older version wrote.
    Safe while servers run: meanwhile they load from the events alone."""
    from infrastructure.settings import Settings
    from infrastructure.snapshots import rebuild
    from interfaces.bootstrap import bootstrap

    services = bootstrap(Settings())
    try:
        counts = rebuild(services.event_log)
    finally:
        services.stop()
    for kind, replayed in sorted(counts.aggregates.items()):
        typer.echo(f"{kind}: replayed {replayed}, snapshots written {counts.written[kind]}")
    typer.echo(f"snapshots deleted: {counts.deleted}")


@projections.command("run")
def run_projections() -> None:
    """Runs the projections only (a worker process beside API processes)."""
    from infrastructure.logging import configure_logging
    from infrastructure.settings import Settings
    from infrastructure.tracing import configure_tracing
    from interfaces.bootstrap import bootstrap

    settings = Settings()
    configure_logging(settings.genai_log_level)
    configure_tracing()  # the ingestion's spans
    services = bootstrap(settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    services.start(projections=True, live=False)
    typer.echo("projection worker running")
    stop.wait()
    services.stop()


@app.command()
def worker(
    concurrency: int = typer.Option(
        None,
        min=1,
        help="Small documents indexed at once (and one large); default: GENAI_INGESTION_WORKERS "
        "or 2.",
    ),
    projections: bool = typer.Option(
        True,
        help="Also run the projections and the ingestion follower (one process at a time "
        "holds each: the others wait as warm standbys).",
    ),
) -> None:
    """Runs queued ingestion jobs (PostgreSQL): as many of these processes, on as many
    machines, as the uploads need. Stopped (SIGTERM), its jobs in flight go back to the queue;
    killed, they go back once it has missed three heartbeats."""
    from infrastructure.logging import configure_logging
    from infrastructure.settings import Settings
    from infrastructure.tracing import configure_tracing
    from interfaces.bootstrap import bootstrap

    settings = Settings()
    if not settings.uses_postgres:
        typer.echo(
            "Error: workers need PostgreSQL (DATABASE_URL); the embedded server indexes "
            "documents itself.",
            err=True,
        )
        raise SystemExit(2)
    configure_logging(settings.genai_log_level)
    configure_tracing()  # the ingestion's spans
    services = bootstrap(settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    jobs = concurrency or settings.genai_ingestion_workers or 2
    services.start(projections=projections, live=False, ingestion_jobs=jobs)
    typer.echo(f"ingestion worker running ({jobs} small documents at once, one large)")
    stop.wait()
    services.stop()


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


def main() -> None:
    try:
        app()
    except SecretKeyError as e:  # a setting to fix, not a bug: no traceback
        typer.echo(f"Error: {e}", err=True)
        raise SystemExit(2) from None


def _is_loopback(host: str) -> bool:
    """Whether a server listening on `host` is reachable from this machine alone."""
    try:
        return all(
            ipaddress.ip_address(info[4][0]).is_loopback
            for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        )
    except (OSError, ValueError):
        return False
