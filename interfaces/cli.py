"""The `genai-stack` command line."""

from __future__ import annotations

import ipaddress
import signal
import socket
import threading
from typing import TYPE_CHECKING

import typer

from infrastructure.secret_keys import SecretKeyError
from interfaces.audit_commands import audit
from interfaces.secrets_commands import secrets
from interfaces.users_cli import users_cli

if TYPE_CHECKING:
    from infrastructure.settings import Settings

app = typer.Typer(help="GenAI Stack: build, publish and chat with question-answering workflows.")
projections = typer.Typer(help="Read models built from the event log.")
app.add_typer(projections, name="projections")
snapshots = typer.Typer(help="Snapshots of long-lived aggregates in the event store.")
app.add_typer(snapshots, name="snapshots")
app.add_typer(audit, name="audit")
app.add_typer(secrets, name="secrets")
app.add_typer(users_cli, name="users")


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
    config = uvicorn.Config(
        create_app(settings),
        log_level="warning",
        log_config=None,  # uvicorn's lines through ours: JSON, with the request id
        ws="websockets",
        # the socket's frames are small GraphQL results (a few tokens each): compressing
        # them costs the server more CPU than it saves bandwidth
        ws_per_message_deflate=False,
    )
    uvicorn.Server(config).run(sockets=[listener])


def _check_keys(settings: Settings) -> None:
    """A key setting that cannot work stops the start with its reason, before the server
    binds (in the server's startup it would be a traceback)."""
    from infrastructure.secret_keys import KeyRing

    key = settings.genai_secret_key
    KeyRing(key.get_secret_value() if key else None, settings.data_dir())


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
    from infrastructure.settings import Settings
    from interfaces.bootstrap import bootstrap

    services = bootstrap(Settings())
    try:
        for worker in services.workers:
            count = worker.rebuild()
            typer.echo(f"{worker.projection.name}: replayed {count} events")
        for name, failed in failures.summary(services.read_db).items():
            typer.echo(
                f"{name}: {failed['events']} events of {failed['aggregates']} aggregates could "
                "not be applied and were gone past (table projection_failures)"
            )
    finally:
        services.stop()


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
