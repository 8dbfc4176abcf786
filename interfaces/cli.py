"""The `genai-stack` command line."""

from __future__ import annotations

import signal
import socket
import threading

import typer

from interfaces.users_cli import users_cli

app = typer.Typer(help="GenAI Stack: build, publish and chat with question-answering workflows.")
projections = typer.Typer(help="Read models built from the event log.")
app.add_typer(projections, name="projections")
snapshots = typer.Typer(help="Snapshots of long-lived aggregates in the event store.")
app.add_typer(snapshots, name="snapshots")
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
    from interfaces.app import create_app

    settings = Settings()
    configure_logging(settings.genai_log_level)
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
        ws="websockets",
        # the socket's frames are small GraphQL results (a few tokens each): compressing
        # them costs the server more CPU than it saves bandwidth
        ws_per_message_deflate=False,
    )
    uvicorn.Server(config).run(sockets=[listener])


@app.command()
def schema() -> None:
    """Prints the served GraphQL schema (SDL)."""
    from interfaces.graphql.schema import schema as served

    typer.echo(served.as_str())


@projections.command("rebuild")
def rebuild() -> None:
    """Drops every read model and the vector index, and rebuilds them from the event log
    (documents are indexed again from their stored files)."""
    from infrastructure.settings import Settings
    from interfaces.container import build

    container = build(Settings())
    try:
        for worker in container.workers:
            count = worker.rebuild()
            typer.echo(f"{worker.projection.name}: replayed {count} events")
    finally:
        container.stop()


@snapshots.command("rebuild")
def rebuild_snapshots() -> None:
    """Replays every workflow, chat and document from its events and rewrites its snapshots
    (one each 100 events), deleting the ones it had: for snapshots an older version wrote.
    Safe while servers run: meanwhile they load from the events alone."""
    from infrastructure.settings import Settings
    from infrastructure.snapshots import rebuild
    from interfaces.container import build

    container = build(Settings())
    try:
        counts = rebuild(container.store)
    finally:
        container.stop()
    for kind, replayed in sorted(counts.aggregates.items()):
        typer.echo(f"{kind}: replayed {replayed}, snapshots written {counts.written[kind]}")
    typer.echo(f"snapshots deleted: {counts.deleted}")


@projections.command("run")
def run_projections() -> None:
    """Runs the projections only (a worker process beside API processes)."""
    from infrastructure.logging import configure_logging
    from infrastructure.settings import Settings
    from interfaces.container import build

    settings = Settings()
    configure_logging(settings.genai_log_level)
    container = build(settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    container.start(projections=True, live=False)
    typer.echo("projection worker running")
    stop.wait()
    container.stop()


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


def main() -> None:
    app()
