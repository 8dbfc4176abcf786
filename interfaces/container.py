"""The composition root: chooses adapters from settings and wires the application."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Engine, text

from application.chat import ChatService, chat_route
from application.documents import DocumentService, Embedders
from application.engine import WorkflowEngine
from application.eventstore import EventStore
from application.history import HistoryService, LiveHistory
from application.ingestion import Ingestion
from application.ports import VectorIndex
from application.workflows import WorkflowService
from domain.workflow import Workflow
from infrastructure.blobs import FileBlobStore
from infrastructure.chat_leases import LocalChatLeases, SqlChatLeases
from infrastructure.chunking import chunk_pages
from infrastructure.database import create_read_engine, migrate, schema_lock
from infrastructure.embedders import DefaultEmbedderFactory
from infrastructure.feed import Hub, InProcessBus, LogWatcher, PostgresBus, PostgresListener
from infrastructure.ingestion import IngestionProjection, IngestionWorker
from infrastructure.livefeed import LiveFeed
from infrastructure.llm.factory import ProviderLLMFactory
from infrastructure.pdf import extract_pages, sniff_pdf
from infrastructure.readmodel.chats import ChatsProjection, SqlChatReadModel
from infrastructure.readmodel.documents import DocumentsProjection, SqlDocumentReadModel
from infrastructure.readmodel.runner import AdvisoryLock, ProjectionWorker
from infrastructure.readmodel.tracking import SqlTrackingView
from infrastructure.readmodel.workflows import SqlWorkflowReadModel, WorkflowsProjection
from infrastructure.secrets import SqlSecretStore, load_or_create_key
from infrastructure.settings import Settings
from infrastructure.websearch import SerpApiSearch
from interfaces.accounts import Accounts, build_accounts

log = structlog.get_logger(__name__)


def _workflow_route(history: LiveHistory) -> Callable[[Any], list[tuple[str, Any]]]:
    def route(event: Any) -> list[tuple[str, Any]]:
        if isinstance(event, Workflow.Event):
            return [(f"workflow:{event.originator_id}", history.entry(event))]
        return []

    return route


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
    chats: ChatService | None = None
    documents: DocumentService | None = None
    history: HistoryService | None = None
    accounts: Accounts | None = None

    def start(self, *, projections: bool = True, live: bool = True) -> None:
        if self.listener:
            self.listener.start()
        if live:
            self.feed = LiveFeed(
                self.store,
                self.watcher,
                self.hub,
                [_workflow_route(LiveHistory(self.store)), chat_route]
                + ([self.documents.live_messages] if self.documents else []),
                self.settings.genai_poll_seconds,
            )
            self.feed.start()
        if projections:
            for worker in self.workers:
                worker.start()
        if live and self.chats and _running_loop():
            self.chats.start_background()  # answers run as tasks of the server's loop
        self.started = True

    def stop(self) -> None:
        if self.chats:
            self.chats.stop()
        for worker in self.workers:
            worker.stop()
        if self.feed:
            self.feed.stop()
        if self.listener:
            self.listener.stop()
        self.store.close()
        self.engine.dispose()

    def live(self, topic: str):  # type: ignore[no-untyped-def]
        """This process's messages on `topic` from now on: stored events from after joining
        (none from before, however late the live feed delivers them), and ephemeral ones."""
        return self.hub.subscribe(topic, floor=self.store.max_notification_id)

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
    """Everything wired; the schema (read tables, event store tables, tracking rows) is
    created or migrated under one lock, so replicas started at once all come up."""
    settings = settings or Settings()
    with schema_lock(_conninfo(settings)):
        return _build(settings)


def _build(settings: Settings) -> Container:
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
    service = WorkflowService(
        store,
        secrets,
        SqlWorkflowReadModel(engine),
        settings.server_keys(),
        caught_up=workers[0].caught_up,
    )
    documents = _documents(settings, store, service, engine, secrets, bus, watcher, lock, workers)
    chats_projection = ChatsProjection(SqlTrackingView(engine, "chats"), settings.model_prices())
    chats_worker = ProjectionWorker(
        store, chats_projection, watcher, lock("chats"), settings.genai_poll_seconds
    )
    workers.append(chats_worker)
    chats = ChatService(
        store,
        service,
        SqlChatReadModel(engine),
        WorkflowEngine(
            ProviderLLMFactory(
                timeout=settings.genai_llm_timeout, retries=settings.genai_llm_retries
            ),
            secrets,
            retriever=documents,
            web_search=SerpApiSearch(settings.genai_web_search_url),
            server_keys=settings.server_key_values(),
        ),
        bus,
        SqlChatLeases(engine) if settings.uses_postgres else LocalChatLeases(),
        lease_seconds=settings.genai_chat_lease_seconds,
        alone=not settings.uses_postgres,
        bus_blocks=settings.uses_postgres,
        caught_up=chats_worker.caught_up,
    )
    accounts, accounts_worker = build_accounts(settings, store, engine, watcher, lock("workspaces"))
    workers.append(accounts_worker)
    return Container(
        settings,
        store,
        engine,
        hub,
        bus,
        watcher,
        service,
        workers,
        listener,
        chats=chats,
        documents=documents,
        history=HistoryService(store, documents.document_ids),
        accounts=accounts,
    )


def _documents(
    settings: Settings,
    store: EventStore,
    workflows: WorkflowService,
    engine: Engine,
    secrets: SqlSecretStore,
    bus: InProcessBus,
    watcher: LogWatcher,
    lock: Callable[[str], AdvisoryLock | None],
    workers: list[ProjectionWorker],
) -> DocumentService:
    """Documents, their projection and the ingestion process (a worker after the table's)."""
    data = settings.data_dir()
    blobs = FileBlobStore(data / "blobs")
    index = _LazyIndex(settings.chroma_url, data / "chroma")
    embedders = Embedders(DefaultEmbedderFactory(), secrets, settings.server_key_values())
    read_model = SqlDocumentReadModel(engine)
    poll = settings.genai_poll_seconds
    documents_view = SqlTrackingView(engine, "documents")
    projection = DocumentsProjection(documents_view, store)
    documents_worker = ProjectionWorker(store, projection, watcher, lock("documents"), poll)
    workers.append(documents_worker)
    service = DocumentService(
        store,
        workflows,
        blobs,
        read_model,
        embedders,
        index,
        sniff_pdf,
        settings.max_upload_mb * 1024 * 1024,
        caught_up=documents_worker.caught_up,
    )
    ingestion = IngestionProjection(
        SqlTrackingView(engine, "ingestion"),
        Ingestion(service, read_model, blobs, extract_pages, chunk_pages, embedders, index, bus),
        documents_view,
        store.name,
    )
    workers.append(IngestionWorker(store, ingestion, watcher, index, lock("ingestion"), poll))
    return service


class _LazyIndex:
    """Chroma, opened on first use: importing it takes most of a second, which a server
    start or a command that never touches vectors need not pay, and a Chroma server that
    is down must not stop the API from starting."""

    def __init__(self, url: str | None, path: Path) -> None:
        self.url, self.path = url, path
        self._index: VectorIndex | None = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        with self._lock:
            if self._index is None:
                from infrastructure.vector_index import ChromaVectorIndex

                self._index = (
                    ChromaVectorIndex.remote(self.url)
                    if self.url
                    else ChromaVectorIndex.embedded(self.path)
                )
        return getattr(self._index, name)


def _running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _conninfo(settings: Settings) -> str | None:
    if not settings.uses_postgres:
        return None
    env = settings.event_store_env()
    return (
        f"dbname={env['POSTGRES_DBNAME']} host={env['POSTGRES_HOST']} "
        f"port={env['POSTGRES_PORT']} user={env['POSTGRES_USER']}"
        + (f" password={env['POSTGRES_PASSWORD']}" if env["POSTGRES_PASSWORD"] else "")
    )
