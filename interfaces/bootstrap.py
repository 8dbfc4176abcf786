"""The composition root: chooses adapters from settings and wires the application.

`bootstrap(settings)` gives every service, follower and live-update route of one process.
Tests pass overrides: for the adapters that reach off the machine (LLMs, embedders, web
search, the vector index), and for the stores (an in-memory event log and read database for
the use-case tests). Nothing is started here: `Services.start` does that.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy import Engine, text

from application.account.access import Access
from application.account.actors import ActorNames
from application.account.budgets import Budgets
from application.account.handlers import Accounts, ApiTokens, Workspaces
from application.account.principals import Principals
from application.account.sessions import Sessions
from application.account.setup import FirstAdmin
from application.account.single_sign_on import SignOnPolicy, SingleSignOn
from application.account.users import Users
from application.chat.answering import ChatAnswering
from application.chat.completions import Completions
from application.chat.engine import WorkflowEngine
from application.chat.handlers import ChatService
from application.chat.live import chat_route
from application.chat.sessions import ChatSessions
from application.document.embedders import Embedders
from application.document.handlers import DocumentService
from application.document.ingestion import Ingestion, old_chunk_locator
from application.document.live import DocumentRoute
from application.document.retrieval import Retrieval
from application.eventlog.audit_log import AuditLog
from application.eventlog.log import EventLog
from application.keys import NodeKeys
from application.ports import EmbedderFactory, LLMFactory, Locate, VectorIndex, WebSearch
from application.workflow.gallery import Gallery
from application.workflow.handlers import WorkflowService
from application.workflow.history import HistoryService
from application.workflow.live import WorkflowRoute
from application.workflow.models import ProviderModels
from application.workflow.transfer import StackTransfer
from infrastructure.accounts.stores import (
    SqlApiTokenStore,
    SqlCredentialStore,
    SqlIdentityStore,
    SqlRefreshTokenStore,
    SqlSetupTokenStore,
)
from infrastructure.accounts.workspaces import SqlWorkspaceReadModel, WorkspacesProjection
from infrastructure.audit_chain import AuditChainWorker, SqlAuditChain
from infrastructure.blobs import FileBlobStore
from infrastructure.chat_leases import LocalChatLeases, SqlChatLeases
from infrastructure.chunking import chunk_pages
from infrastructure.database import create_read_engine, make_private, migrate, schema_lock
from infrastructure.embedders import DefaultEmbedderFactory
from infrastructure.embedders.local import load_in_background
from infrastructure.ingestion_follower import (
    IngestionProjection,
    IngestionWorker,
    QueuedIngestionWorker,
)
from infrastructure.live_feed import LiveFeed, Router
from infrastructure.llm.factory import ProviderLLMFactory, model_catalogs
from infrastructure.log_watcher import LogWatcher
from infrastructure.metrics import FOLLOWERS, PrometheusMeter
from infrastructure.notify_bus import Hub, InProcessBus, PostgresBus, PostgresListener
from infrastructure.ocr import TesseractOcr
from infrastructure.oidc import OidcProvider
from infrastructure.passwords import Argon2Hasher
from infrastructure.pdf import iter_pages, sniff_pdf
from infrastructure.ratelimit import LimitsRateLimiter
from infrastructure.readmodel.audit import AuditProjection, SqlAuditReadModel
from infrastructure.readmodel.chats import ChatsProjection, SqlChatReadModel
from infrastructure.readmodel.documents import DocumentsProjection, SqlDocumentReadModel
from infrastructure.readmodel.runner import AdvisoryLock, ProjectionWorker
from infrastructure.readmodel.tracking import SqlTrackingView
from infrastructure.readmodel.workflows import SqlWorkflowReadModel, WorkflowsProjection
from infrastructure.secret_keys import KeyRing
from infrastructure.secrets import SqlSecretStore
from infrastructure.settings import Settings
from infrastructure.task_queue import IngestionJobs, IngestionQueue
from infrastructure.tokens import JwtAccessTokens, signing_key
from infrastructure.websearch import SerpApiSearch
from interfaces.limits import ConnectionBounds, RequestLimits

log = structlog.get_logger(__name__)


@dataclass
class Services:
    """One process's application: the use cases, the followers of the log, live updates."""

    settings: Settings
    event_log: EventLog
    read_db: Engine  # the read tables (and secrets, leases): SQLAlchemy
    hub: Hub
    bus: InProcessBus
    watcher: LogWatcher
    listener: PostgresListener | None
    workflows: WorkflowService
    history: HistoryService
    documents: DocumentService
    gallery: Gallery  # the templates a stack starts from
    transfer: StackTransfer  # export and import of stacks, history as JSON Lines
    retrieval: Retrieval
    ingestion: Ingestion
    index: VectorIndex
    chats: ChatService
    answering: ChatAnswering
    accounts: Accounts  # users, sign-in sessions, workspaces, API tokens, who a request is
    budgets: Budgets  # each workspace's monthly budget for questions
    access: Access  # who may do what on which resource
    workers: list[ProjectionWorker]  # the projections, then the ingestion process
    routes: list[Router]  # every stored event → the live topics it goes to
    audit: AuditChainWorker  # extends the hash chain over the log
    limits: RequestLimits  # rate limits of changes, questions and uploads
    connections: ConnectionBounds  # open WebSocket connections per principal
    completions: Completions  # published stacks as OpenAI-compatible models
    models: ProviderModels  # the models a provider's server has (Ollama's)
    audit_log: AuditLog  # a workspace's changes in words, for its admins
    queue: IngestionQueue | None = None  # with PostgreSQL: the ingestion jobs, for any process
    jobs: IngestionJobs | None = None  # the queued ingestion jobs this process runs
    feed: LiveFeed | None = None
    model_loading: threading.Thread | None = None  # the local embedding model, loading aside
    started: bool = field(default=False)

    def start(
        self, *, projections: bool = True, live: bool = True, ingestion_jobs: int | None = None
    ) -> None:
        """`ingestion_jobs`: with PostgreSQL, how many queued ingestion jobs this process runs
        at once (GENAI_INGESTION_WORKERS unless given; 0: none)."""
        if self.settings.genai_preload_embedder:
            # the first upload or question should not wait seconds for torch: load it now,
            # on a thread of its own (the server answers meanwhile)
            self.model_loading = load_in_background()
        FOLLOWERS.watch(self.workers, self._ingestion_depth())  # /metrics reports on them
        if ingestion_jobs is None:
            ingestion_jobs = self.settings.genai_ingestion_workers
        if ingestion_jobs > 0:
            self.start_ingestion_jobs(ingestion_jobs)
        if self.listener:
            self.listener.start()
        if live:
            poll = self.settings.genai_poll_seconds
            self.feed = LiveFeed(self.event_log, self.watcher, self.hub, self.routes, poll)
            self.feed.start()
        if projections:
            for worker in self.workers:
                worker.start()
            self.audit.start()
        if live and _running_loop():
            self.answering.start_background()  # answers run as tasks of the server's loop
        self.started = True

    def _ingestion_depth(self) -> Callable[[], int]:
        """The documents waiting or being indexed: in the queue, or this process's jobs."""
        if self.queue is not None:
            return self.queue.depth
        ingestion = next(w for w in self.workers if isinstance(w, IngestionWorker))
        return lambda: len(ingestion.jobs)

    def start_ingestion_jobs(self, concurrency: int) -> None:
        """With PostgreSQL: this process runs queued ingestion jobs, `concurrency` small
        documents at once (and one large). Without a queue (SQLite): nothing to do, the
        ingestion follower indexes the documents itself."""
        conninfo = _conninfo(self.settings)
        if self.queue is None or self.jobs is not None or conninfo is None:
            return
        ingestion = self.ingestion

        def run(document_id: UUID, key: str, request: int, stopping: threading.Event) -> None:
            ingestion.process(document_id, key, request, stopping.is_set)

        self.jobs = IngestionJobs(
            conninfo,
            run,
            ingestion.give_up,
            concurrency,
            self.settings.genai_ingestion_heartbeat_seconds,
            name=f"ingestion-{socket.gethostname()}-{os.getpid()}",
        )
        self.jobs.start()

    def stop(self) -> None:
        if self.jobs:
            self.jobs.stop()  # jobs in flight go back to the queue
        self.answering.stop()
        for worker in self.workers:
            worker.stop()
        self.audit.stop()
        if self.feed:
            self.feed.stop()
        if self.listener:
            self.listener.stop()
        if self.queue:
            self.queue.close()
        self.event_log.close()
        self.read_db.dispose()

    def live(self, topic: str) -> AbstractAsyncContextManager[AsyncIterator[Any]]:
        """This process's messages on `topic` from now on: stored events from after joining
        (none from before, however late the live feed delivers them), and ephemeral ones."""
        return self.hub.subscribe(topic, floor=self.event_log.max_notification_id)

    def ready(self) -> bool:
        """Both databases answer."""
        try:
            with self.read_db.connect() as conn:
                conn.execute(text("SELECT 1"))
            self.event_log.max_notification_id()
            return True
        except Exception:
            log.warning("not ready", exc_info=True)
            return False

    def worker(self, name: str) -> ProjectionWorker:
        return next(w for w in self.workers if w.projection.name == name)


def bootstrap(
    settings: Settings | None = None,
    *,
    event_log: EventLog | None = None,
    read_db: Engine | None = None,
    llms: LLMFactory | None = None,
    embedders: EmbedderFactory | None = None,
    web_search: WebSearch | None = None,
    index: VectorIndex | None = None,
) -> Services:
    """Everything wired; the schema (read tables, event log tables, tracking rows) is
    created or migrated under one lock, so replicas started at once all come up. Each
    keyword overrides the adapter the settings would choose."""
    settings = settings or Settings()
    with schema_lock(_conninfo(settings)):
        read_db = read_db or create_read_engine(
            settings.read_database_url(), settings.genai_db_pool_size
        )
        migrate(read_db)
        event_log = event_log or EventLog(env=settings.event_store_env())
        if not settings.uses_postgres:
            make_private(settings.data_dir())
        return _wire(
            settings,
            event_log,
            read_db,
            llms=llms,
            embedders=embedders,
            web_search=web_search,
            index=index,
        )


def _wire(
    settings: Settings,
    event_log: EventLog,
    read_db: Engine,
    *,
    llms: LLMFactory | None,
    embedders: EmbedderFactory | None,
    web_search: WebSearch | None,
    index: VectorIndex | None,
) -> Services:
    watcher, hub = LogWatcher(), Hub()
    event_log.on_saved(watcher.poke)
    key = settings.genai_secret_key.get_secret_value() if settings.genai_secret_key else None
    secrets = SqlSecretStore(read_db, KeyRing(key, settings.data_dir()))
    keys = NodeKeys(secrets, settings.server_key_values(), settings.key_policy())
    outbound = settings.outbound_rules()
    conninfo = _conninfo(settings)
    listener = None
    bus: InProcessBus
    if conninfo:
        bus = notifying = PostgresBus(hub, conninfo)
        listener = PostgresListener(
            conninfo,
            event_log.recorder.channel_name,
            watcher,
            notifying.receive,
            getattr(event_log.recorder, "saved_here", None),
            notifying.listening,
        )
    else:
        bus = InProcessBus(hub)
    poll, data = settings.genai_poll_seconds, settings.data_dir()

    def follower(projection: Any) -> ProjectionWorker:
        lock = AdvisoryLock(conninfo, projection.name) if conninfo else None
        return ProjectionWorker(event_log, projection, watcher, lock, poll)

    def view(name: str) -> SqlTrackingView:
        return SqlTrackingView(read_db, name)

    # workflows
    workflows_worker = follower(WorkflowsProjection(view("workflows"), event_log))
    workflows = WorkflowService(
        event_log,
        secrets,
        SqlWorkflowReadModel(read_db),
        settings.key_policy(),
        caught_up=workflows_worker.caught_up,
    )

    # documents, and the ingestion process after their table
    blobs = FileBlobStore(data / "blobs")
    lazy_index = None
    if index is None:
        index = lazy_index = _LazyIndex(settings.chroma_url, data / "chroma")
    embedders_of = Embedders(embedders or DefaultEmbedderFactory(outbound=outbound), keys)
    documents_read = SqlDocumentReadModel(read_db)
    documents_view = view("documents")
    documents_worker = follower(DocumentsProjection(documents_view, event_log))
    documents = DocumentService(
        event_log,
        workflows,
        blobs,
        documents_read,
        sniff_pdf,
        settings.max_upload_mb * 1024 * 1024,
        caught_up=documents_worker.caught_up,
    )
    retrieval = Retrieval(documents, workflows, documents_read, embedders_of, index)
    if lazy_index is not None:  # vectors of an earlier layout are moved when it opens
        lazy_index.locate = partial(old_chunk_locator, documents)
    meter = PrometheusMeter(settings.model_prices())
    ingestion = Ingestion(
        documents,
        documents_read,
        blobs,
        partial(
            iter_pages,
            max_chars=settings.genai_max_document_chars,
            ocr=TesseractOcr(
                max_pages=settings.genai_ocr_max_pages,
                page_seconds=settings.genai_ocr_page_seconds,
            )
            if settings.genai_ocr
            else None,
        ),
        chunk_pages,
        embedders_of,
        index,
        bus,
        batch_size=settings.genai_embed_batch,
        max_chunks=settings.genai_max_document_chunks,
        meter=meter,
    )
    ingestion_projection = IngestionProjection(
        view("ingestion"), ingestion, documents_view, event_log.name
    )
    lock = AdvisoryLock(conninfo, "ingestion") if conninfo else None
    queue = None
    ingestion_worker: ProjectionWorker
    if conninfo:  # jobs queued for any process (task_queue); else indexed in this one
        queue = IngestionQueue(conninfo, round(settings.genai_ingestion_large_mb * 1024 * 1024))
        ingestion_worker = QueuedIngestionWorker(
            event_log, ingestion_projection, watcher, index, queue, lock, poll
        )
    else:
        ingestion_worker = IngestionWorker(
            event_log, ingestion_projection, watcher, index, lock, poll
        )

    # accounts
    workspaces_worker = follower(WorkspacesProjection(view("workspaces"), event_log))
    accounts = _accounts(settings, event_log, read_db, workspaces_worker.caught_up, workflows)

    # chats
    chats_worker = follower(ChatsProjection(view("chats"), settings.model_prices()))
    chats_read = SqlChatReadModel(read_db)
    engine = WorkflowEngine(
        llms
        or ProviderLLMFactory(
            timeout=settings.genai_llm_timeout,
            retries=settings.genai_llm_retries,
            outbound=outbound,
        ),
        keys,
        retriever=retrieval,
        web_search=web_search or SerpApiSearch(settings.genai_web_search_url, outbound=outbound),
        meter=meter,
    )
    answering = ChatAnswering(
        event_log,
        workflows,
        chats_read,
        engine,
        bus,
        SqlChatLeases(read_db) if settings.uses_postgres else LocalChatLeases(),
        lease_seconds=settings.genai_chat_lease_seconds,
        alone=not settings.uses_postgres,
        bus_blocks=settings.uses_postgres,
        meter=meter,
    )
    budgets = Budgets(accounts.workspaces, chats_read, workflows.workspace_of, _utc_now)
    chats = ChatService(
        event_log,
        workflows,
        chats_read,
        answering,
        caught_up=chats_worker.caught_up,
        within_budget=budgets.check,
    )

    access = Access(
        accounts.workspaces, accounts.api_tokens, workflows, documents, ChatSessions(event_log)
    )

    def live(topic: str) -> AbstractAsyncContextManager[AsyncIterator[Any]]:
        return hub.subscribe(topic, floor=event_log.max_notification_id)

    history = HistoryService(event_log, documents.document_ids)
    # the audit log
    audit_worker = follower(AuditProjection(view("audit_log"), event_log))
    audit_log = AuditLog(
        SqlAuditReadModel(read_db), accounts.actors.names, caught_up=audit_worker.caught_up
    )

    return Services(
        settings=settings,
        event_log=event_log,
        read_db=read_db,
        hub=hub,
        bus=bus,
        watcher=watcher,
        listener=listener,
        workflows=workflows,
        history=history,
        documents=documents,
        gallery=Gallery(workflows),
        transfer=StackTransfer(
            workflows,
            documents,
            history,
            blobs,
            sniff_pdf,
            settings.max_upload_mb * 1024 * 1024,
        ),
        retrieval=retrieval,
        ingestion=ingestion,
        index=index,
        chats=chats,
        answering=answering,
        accounts=accounts,
        budgets=budgets,
        access=access,
        workers=[
            workflows_worker,
            documents_worker,
            ingestion_worker,
            chats_worker,
            workspaces_worker,
            audit_worker,
        ],
        routes=[WorkflowRoute(event_log), chat_route, DocumentRoute(event_log).route],
        audit=AuditChainWorker(
            event_log,
            SqlAuditChain(read_db),
            watcher,
            AdvisoryLock(conninfo, "audit") if conninfo else None,
            poll,
        ),
        limits=RequestLimits.from_settings(settings),
        connections=ConnectionBounds(settings.genai_max_connections_per_user),
        completions=Completions(chats, workflows, accounts.workspaces, access, live),
        models=ProviderModels(model_catalogs(outbound)),
        audit_log=audit_log,
        queue=queue,
    )


def _accounts(
    settings: Settings,
    event_log: EventLog,
    read_db: Engine,
    caught_up: Callable[[], object],
    stacks: WorkflowService,
) -> Accounts:
    credentials, refresh = SqlCredentialStore(read_db), SqlRefreshTokenStore(read_db)
    hasher = Argon2Hasher()
    users = Users(event_log, credentials, hasher, refresh, _utc_now)
    secret = settings.genai_secret_key.get_secret_value() if settings.genai_secret_key else None
    jwt_key = settings.genai_jwt_key.get_secret_value() if settings.genai_jwt_key else None
    key = signing_key(jwt_key, secret, settings.data_dir())
    access = JwtAccessTokens(key, settings.genai_access_token_minutes)
    limiter = LimitsRateLimiter(
        settings.genai_sign_in_limit, settings.redis_url, settings.genai_rate_limit_namespace
    )
    sessions = Sessions(
        users,
        credentials,
        hasher,
        access,
        refresh,
        limiter,
        _utc_now,
        settings.genai_refresh_token_days,
    )
    workspaces = Workspaces(
        event_log, SqlWorkspaceReadModel(read_db), credentials, _utc_now, caught_up
    )
    api_tokens = ApiTokens(workspaces, SqlApiTokenStore(read_db), _utc_now, stacks)
    single_sign_on = None
    if settings.single_sign_on:
        assert settings.genai_oidc_issuer and settings.genai_oidc_client_id
        client_secret = settings.genai_oidc_client_secret
        provider = OidcProvider(
            settings.genai_oidc_issuer,
            settings.genai_oidc_client_id,
            client_secret.get_secret_value() if client_secret else None,
            name=settings.genai_oidc_name,
            scopes=settings.genai_oidc_scopes,
            flow_key=key,
            clock=_utc_now,
        )
        single_sign_on = SingleSignOn(
            provider,
            users,
            credentials,
            SqlIdentityStore(read_db),
            sessions,
            workspaces,
            limiter,
            _utc_now,
            SignOnPolicy(
                sign_up=settings.genai_oidc_sign_up,
                email_domains=tuple(settings.genai_oidc_email_domains),
                join_default_workspace=settings.genai_oidc_join_default_workspace,
            ),
        )
    return Accounts(
        users,
        sessions,
        workspaces,
        api_tokens,
        Principals(users, access, api_tokens, settings.auto_login),
        FirstAdmin(users, workspaces, SqlSetupTokenStore(read_db), _utc_now),
        ActorNames(users, api_tokens.store),
        single_sign_on,
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _LazyIndex:
    """Chroma, opened on first use: importing it takes most of a second, which a server
    start or a command that never touches vectors need not pay, and a Chroma server that
    is down must not stop the API from starting. On opening, vectors stored in an earlier
    layout are moved into partitions (`VectorIndex.upgrade`) before any other call: once,
    the first use after an upgrade waits for it."""

    def __init__(self, url: str | None, path: Path) -> None:
        self.url, self.path = url, path
        self.locate: Callable[[], Locate] | None = None
        self._index: VectorIndex | None = None
        self._moved = 0  # by the upgrade when it opened, not yet reported
        self._lock = threading.Lock()

    def upgrade_layout(self) -> int:
        """Moves vectors of an earlier layout (those there when the index opened, or written
        since); how many moved since last asked."""
        opened = self._opened()
        with self._lock:
            moved, self._moved = self._moved, 0
        return moved + (opened.upgrade(self.locate()) if self.locate is not None else 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._opened(), name)

    def _opened(self) -> VectorIndex:
        with self._lock:
            if self._index is None:
                from infrastructure.vector_index import ChromaVectorIndex

                index = (
                    ChromaVectorIndex.remote(self.url)
                    if self.url
                    else ChromaVectorIndex.embedded(self.path)
                )
                if self.locate is not None:
                    self._moved = index.upgrade(self.locate())
                self._index = index
            return self._index


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
