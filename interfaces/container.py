"""The composition root: chooses adapters from settings and wires the application."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import Engine, text

from application.eventstore import EventStore
from application.workflows import WorkflowService, history_entry
from domain.workflow import Workflow
from infrastructure.database import create_read_engine, migrate
from infrastructure.feed import Hub, InProcessBus, LogWatcher, PostgresBus, PostgresListener
from infrastructure.livefeed import LiveFeed
from infrastructure.readmodel.runner import AdvisoryLock, ProjectionWorker
from infrastructure.readmodel.tracking import SqlTrackingView
from infrastructure.readmodel.workflows import SqlWorkflowReadModel, WorkflowsProjection
from infrastructure.secrets import SqlSecretStore, load_or_create_key
from infrastructure.settings import Settings

log = structlog.get_logger(__name__)


def _workflow_route(event: Any) -> list[tuple[str, Any]]:
    if isinstance(event, Workflow.Event):
        return [(f"workflow:{event.originator_id}", history_entry(event))]
    return []


@dataclass
class Container:
    settings: Settings
    store: EventStore
    engine: Engine
    hub: Hub
    bus: InProcessBus
    watcher: LogWatcher
    workflows: WorkflowService
    workers: list[ProjectionWorker]
    listener: PostgresListener | None = None
    feed: LiveFeed | None = None
    started: bool = field(default=False)

    def start(self, *, projections: bool = True, live: bool = True) -> None:
        if self.listener:
            self.listener.start()
        if live:
            self.feed = LiveFeed(
                self.store,
                self.watcher,
                self.hub,
                [_workflow_route],
                self.settings.genai_poll_seconds,
            )
            self.feed.start()
        if projections:
            for worker in self.workers:
                worker.start()
        self.started = True

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        if self.feed:
            self.feed.stop()
        if self.listener:
            self.listener.stop()
        self.store.close()
        self.engine.dispose()

    def ready(self) -> bool:
        """Both databases answer."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            self.store.max_notification_id()
            return True
        except Exception:
            log.warning("not ready", exc_info=True)
            return False

    def worker(self, name: str) -> ProjectionWorker:
        return next(w for w in self.workers if w.projection.name == name)


def build(settings: Settings | None = None) -> Container:
    settings = settings or Settings()
    engine = create_read_engine(settings.read_database_url(), settings.genai_db_pool_size)
    migrate(engine)
    store = EventStore(env=settings.event_store_env())
    watcher, hub = LogWatcher(), Hub()
    store.on_saved(watcher.poke)
    key = settings.genai_secret_key.get_secret_value() if settings.genai_secret_key else None
    secrets = SqlSecretStore(engine, load_or_create_key(key, settings.data_dir()))
    listener = None
    bus: InProcessBus
    conninfo = _conninfo(settings)
    if conninfo:
        bus = PostgresBus(hub, conninfo)
        listener = PostgresListener(
            conninfo,
            store.recorder.channel_name,
            watcher,
            bus.receive,  # type: ignore[attr-defined]
        )
    else:
        bus = InProcessBus(hub)

    def lock(name: str) -> AdvisoryLock | None:
        return AdvisoryLock(conninfo, name) if conninfo else None

    projection = WorkflowsProjection(SqlTrackingView(engine, "workflows"), store)
    workers = [
        ProjectionWorker(store, projection, watcher, lock("workflows"), settings.genai_poll_seconds)
    ]
    service = WorkflowService(store, secrets, SqlWorkflowReadModel(engine), settings.server_keys())
    return Container(settings, store, engine, hub, bus, watcher, service, workers, listener)


def _conninfo(settings: Settings) -> str | None:
    if not settings.uses_postgres:
        return None
    env = settings.event_store_env()
    return (
        f"dbname={env['POSTGRES_DBNAME']} host={env['POSTGRES_HOST']} "
        f"port={env['POSTGRES_PORT']} user={env['POSTGRES_USER']}"
        + (f" password={env['POSTGRES_PASSWORD']}" if env["POSTGRES_PASSWORD"] else "")
    )
