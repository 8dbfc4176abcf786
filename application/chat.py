"""Chat use cases: start a session on a published version or on the draft, ask, and answer in
the background.

A published session answers from the graph its version pinned (kept in memory: it never
changes); a draft session loads the draft for each question and answers from it as it stands
then, or fails the answer with INVALID_WORKFLOW if it does not validate. Either way the answer
records the workflow version whose graph gave it.

`send` stores the question and returns; the answer runs as an asyncio task of this process.
Questions of a session are answered one at a time, oldest first (a second message waits for
the first answer). Across processes, the process that answers a session holds a lease on it
(a row with an expiry, renewed while it works): another process that receives a message for
that session only stores it, and the holder picks it up before letting go. A question whose
answering process died is failed by the recovery sweep once that process's lease has
expired (see `recover`), so nothing is left hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

import anyio
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from application.answer_bounds import storable
from application.chat_views import (
    ChatMessageView,
    ChatReadModel,
    ChatSessionView,
    ChatUpdate,
    UsageView,
    chat_topic,
    passage_of,
    web_source_of,
)
from application.engine import Answer, Progress, WorkflowEngine
from application.eventstore import EventStore, change_with_retry
from application.ports import EventBus, ProviderError, Usage
from application.streaming import DeltaBatcher, OffLoopPublisher
from application.workflows import WorkflowService
from domain.chat import AnsweredBy, ChatSession, Question, answer_id_for
from domain.errors import DomainError, InvalidCommand, InvalidWorkflow, NotFound
from domain.graph import Edge, Node, ValidationIssue

log = logging.getLogger(__name__)

ANSWERER = "assistant"  # the actor of answers and failures
MAX_ATTEMPTS = 30
MAX_TROUBLES = 3
GRAPH_CACHE = 256

INTERRUPTED = "The server stopped before this question was answered; please ask again."  # recovery
MAX_FAILURE = 2000
UNEXPECTED = "The answer failed unexpectedly; the server logged the details."


class ChatLeases(Protocol):
    """Which process answers which session; a lease not renewed in time has expired."""

    def claim(self, session_id: UUID, owner: str, seconds: float) -> bool:
        """Takes the lease if nobody holds it or its holder let it expire."""
        ...

    def renew(self, session_ids: list[UUID], owner: str, seconds: float) -> None: ...

    def release(self, session_id: UUID, owner: str) -> None: ...

    def clear(self) -> None:
        """Forgets every lease (a process that knows it is alone, at start-up)."""
        ...


@dataclass(frozen=True)
class Failure:
    code: str
    message: str


@dataclass(frozen=True)
class AnsweringGraph:
    """The graph that answers a question, and the version it stands at."""

    by: AnsweredBy
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    issues: tuple[ValidationIssue, ...] = ()  # a draft's, which stop it answering

    def check(self) -> None:
        if self.issues:
            words = " ".join(i.message for i in self.issues)
            raise InvalidWorkflow(
                f"The draft cannot answer until it is fixed: {words}", self.issues
            )


def failure_of(error: BaseException) -> Failure:
    """The code and message an AnswerFailed records for what stopped an answer."""
    if isinstance(error, ProviderError):  # its words may come from the provider
        return Failure("PROVIDER_ERROR", storable(str(error))[:MAX_FAILURE])
    if isinstance(error, InvalidWorkflow):
        return Failure("INVALID_WORKFLOW", str(error))
    if isinstance(error, NotFound):
        return Failure("NOT_FOUND", str(error))
    if isinstance(error, DomainError):
        return Failure("BAD_USER_INPUT", str(error))
    return Failure("INTERNAL", UNEXPECTED)


class ChatService:
    def __init__(
        self,
        store: EventStore,
        workflows: WorkflowService,
        read_model: ChatReadModel,
        engine: WorkflowEngine,
        bus: EventBus,
        leases: ChatLeases,
        *,
        lease_seconds: float = 30.0,
        alone: bool = False,
        bus_blocks: bool = True,
        caught_up: Callable[[], object] = lambda: None,
    ) -> None:
        """`alone`: no other process shares the store (the embedded default), so whatever was
        waiting when this process started is an orphan at once. `bus_blocks`: publishing does
        I/O (PostgreSQL NOTIFY), so it is done off the event loop. `caught_up` waits (briefly)
        until the read model holds every event stored so far, so reads show one's own writes."""
        self.store, self.workflows, self.read_model = store, workflows, read_model
        self.caught_up = caught_up
        self.engine, self.leases = engine, leases
        self.publisher = OffLoopPublisher(bus, threaded=bus_blocks)
        self.lease_seconds, self.alone = lease_seconds, alone
        self.owner = f"answerer-{uuid.uuid4().hex[:12]}"
        self.started_at = datetime.now(UTC)
        self._graphs: OrderedDict[tuple[UUID, int], AnsweringGraph] = OrderedDict()
        self._workers: dict[UUID, asyncio.Task[None]] = {}
        self._wanted: set[UUID] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._maintenance: asyncio.Task[None] | None = None
        self._stopping = False

    # ---------------------------------------------------------------- commands

    def start(
        self, workflow_id: UUID, number: int | None, actor: str, *, draft: bool = False
    ) -> ChatSessionView:
        """A session on published version `number` (the latest when None), or on the draft."""
        workflow = self.workflows.load(workflow_id)
        if draft and number is not None:
            raise InvalidCommand("a draft chat answers from the draft: give no published version")
        pinned = None if draft else workflow.published_version(number).number
        chat = ChatSession.start(workflow_id, pinned, actor)
        self.store.save(chat)
        return ChatSessionView(
            chat.id,
            workflow_id,
            chat.published_version,
            chat.created_on,
            chat.modified_on,
            draft=chat.draft,
        )

    def ask(self, session_id: UUID, content: str, actor: str) -> ChatMessageView:
        """Stores the question only; `send` also starts answering it."""
        return self._ask(session_id, content, actor)[0]

    async def send(self, session_id: UUID, content: str, actor: str) -> ChatMessageView:
        message, chat = await anyio.to_thread.run_sync(self._ask, session_id, content, actor)
        self.answer_soon(session_id, chat)
        return message

    def _ask(
        self, session_id: UUID, content: str, actor: str
    ) -> tuple[ChatMessageView, ChatSession]:
        message_id = uuid.uuid4()
        chat = self._change(session_id, lambda c: c.ask(message_id, content, actor))
        question = next(q for q in chat.pending if q.id == message_id)
        view = ChatMessageView(
            question.id, session_id, "USER", question.content, question.asked_at, status="pending"
        )
        return view, chat

    # ---------------------------------------------------------------- reads

    def get(self, session_id: UUID) -> ChatSessionView | None:
        self.caught_up()
        return self.read_model.get_session(session_id)

    def sessions(self, workflow_id: UUID) -> list[ChatSessionView]:
        self.caught_up()
        return self.read_model.list_sessions(workflow_id)

    def usage(self, workflow_id: UUID | None) -> list[UsageView]:
        return self.read_model.usage(workflow_id)

    def version_of(self, session_id: UUID) -> int:
        """The session's version now (raises NotFound), where a live subscription starts."""
        return self._load(session_id).version

    # ---------------------------------------------------------------- answering

    def answer_soon(self, session_id: UUID, latest: ChatSession | None = None) -> None:
        """Makes sure this process answers the session's questions (call on the event loop).
        `latest`: the session as this process just saved it, which spares a load."""
        if self._stopping:
            return
        self._loop = asyncio.get_running_loop()
        self._wanted.add(session_id)
        if session_id not in self._workers:
            self._workers[session_id] = self._loop.create_task(self._work(session_id, latest))

    async def _work(self, session_id: UUID, latest: ChatSession | None) -> None:
        troubles = 0
        try:
            while not self._stopping:
                try:
                    # No await between the last look at `_wanted` and leaving `_workers`
                    # (the finally below): a question asked after that look finds no worker
                    # and starts one; one asked before it is seen here.
                    if not await self._round(session_id, latest) and session_id not in self._wanted:
                        return
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # The store or the read database failed us: try again a little later;
                    # after that the questions are left to the recovery sweep.
                    troubles += 1
                    log.exception("answering chat %s failed (%d)", session_id, troubles)
                    if troubles == MAX_TROUBLES:
                        return
                    await asyncio.sleep(troubles)
                latest = None
        finally:
            if self._workers.get(session_id) is asyncio.current_task():
                del self._workers[session_id]

    async def _round(self, session_id: UUID, latest: ChatSession | None) -> bool:
        """Holds the lease while answering what waits; returns whether to look again."""
        if not await self._lease(self.leases.claim, session_id, self.lease_seconds):
            return False  # another process answers it, and looks again before letting go
        try:
            if latest is not None:
                # A stale copy only costs a reload when the answer is saved.
                self._wanted.discard(session_id)
                chat = latest
            else:
                chat = await self._fresh(session_id)
            while not self._stopping:
                question = chat.next_question
                if question is not None:
                    chat = await self._answer(chat, question)
                elif session_id in self._wanted:  # asked here since we last looked
                    chat = await self._fresh(session_id)
                else:
                    break
        finally:
            if not self._stopping:
                await self._lease(self.leases.release, session_id)
        if session_id in self._wanted:
            return True
        if self.alone:
            return False
        # A question stored by another process while we held the lease is ours too.
        return bool(await anyio.to_thread.run_sync(self._moved_on, chat))

    async def _lease(self, action: Callable[..., Any], session_id: UUID, *args: Any) -> Any:
        # Alone, leases live in memory: a thread would cost more than the call.
        if self.alone:
            return action(session_id, self.owner, *args)
        return await anyio.to_thread.run_sync(action, session_id, self.owner, *args)

    def _moved_on(self, chat: ChatSession) -> bool:
        """Whether the session has events after this copy of it."""
        return any(True for _ in self.store.events.get(chat.id, gt=chat.version, limit=1))

    async def _fresh(self, session_id: UUID) -> ChatSession:
        self._wanted.discard(session_id)  # before loading: a later ask sets it again
        return await anyio.to_thread.run_sync(self._load, session_id)

    async def _answer(self, chat: ChatSession, question: Question) -> ChatSession:
        """Answers the question and records the outcome; returns the session after it."""
        session_id, after = chat.id, chat.version
        answer_id = answer_id_for(question.id)
        topic = chat_topic(session_id)

        def stage(name: str) -> None:
            update = ChatUpdate("thinking", session_id, after, False, stage=name)
            self.publisher.send(topic, update.to_bus())

        def token(delta: str) -> None:
            update = ChatUpdate(
                "token", session_id, after, False, message_id=answer_id, delta=delta
            )
            self.publisher.send(topic, update.to_bus())

        tokens = DeltaBatcher(token)

        started = time.perf_counter()
        outcome: Answer | Failure
        by = AnsweredBy()  # unknown until the graph is loaded
        try:
            graph = await self._graph(chat)
            by = graph.by
            graph.check()
            outcome = await self.engine.run(
                chat.workflow_id,
                graph.nodes,
                graph.edges,
                question.content,
                Progress(stage, tokens.add),
            )
        except asyncio.CancelledError:
            raise
        except Exception as e:
            outcome = failure_of(e)
            if outcome.code == "INTERNAL":
                log.exception("answering question %s failed", question.id)
        latency_ms = round((time.perf_counter() - started) * 1000)
        tokens.flush()
        await self.publisher.flush()  # the last tokens go out before the stored answer
        return await anyio.to_thread.run_sync(
            self._record, chat, question.id, outcome, latency_ms, by
        )

    def _record(
        self,
        chat: ChatSession,
        question_id: UUID,
        outcome: Answer | Failure,
        latency_ms: int,
        by: AnsweredBy,
    ) -> ChatSession:
        def record(chat: ChatSession) -> None:
            if all(q.id != question_id for q in chat.pending):
                return  # failed meanwhile (recovery, shutdown): the late answer is dropped
            if isinstance(outcome, Failure):
                chat.fail(question_id, outcome.code, outcome.message, ANSWERER, by)
            else:
                chat.answer(
                    question_id,
                    outcome.content,
                    [asdict(p) for p in outcome.sources],
                    outcome.model,
                    asdict(outcome.usage),
                    latency_ms,
                    ANSWERER,
                    web_sources=[asdict(r) for r in outcome.web_sources],
                    by=by,
                )

        # Usually nothing happened to the session meanwhile: save it without loading it again.
        record(chat)
        try:
            self.store.save(chat)
        except IntegrityError:
            return self._change(chat.id, record)
        return chat

    async def _graph(self, chat: ChatSession) -> AnsweringGraph:
        """The draft as it stands now, or the published graph, which never changes and so is
        kept."""
        if chat.draft:
            wf = await anyio.to_thread.run_sync(self.workflows.load, chat.workflow_id)
            issues = wf.validate(self.workflows.server_keys)
            nodes, edges = tuple(wf.nodes.values()), tuple(wf.edges.values())
            return AnsweringGraph(AnsweredBy(wf.version), nodes, edges, tuple(issues))
        key = (chat.workflow_id, chat.published_version)
        graph = self._graphs.get(key)
        if graph is None:
            wf = await anyio.to_thread.run_sync(self.workflows.load, chat.workflow_id)
            published = wf.published_version(chat.published_version)
            by = AnsweredBy(published.workflow_version, published.number)
            graph = self._graphs[key] = AnsweringGraph(by, published.nodes, published.edges)
            if len(self._graphs) > GRAPH_CACHE:
                self._graphs.popitem(last=False)
        return graph

    # ---------------------------------------------------------------- keeping it going

    def start_background(self) -> None:
        """Starts lease renewal and the recovery sweep on the running loop (at start-up)."""
        self._loop = asyncio.get_running_loop()
        if self.alone:
            self.leases.clear()  # nobody else runs on this store: every lease is a dead one's
        self._maintenance = self._loop.create_task(self._maintain())

    async def _maintain(self) -> None:
        renew_every = max(self.lease_seconds / 3, 0.05)
        next_sweep = 0.0
        while not self._stopping:
            try:
                if self._workers:
                    await anyio.to_thread.run_sync(
                        self.leases.renew, list(self._workers), self.owner, self.lease_seconds
                    )
                if time.monotonic() >= next_sweep:
                    await anyio.to_thread.run_sync(self.recover)
                    next_sweep = time.monotonic() + self.lease_seconds
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("chat maintenance failed; retrying")
            await asyncio.sleep(renew_every)

    def recover(self) -> int:
        """Fails questions that nobody is answering and nobody will: those asked before this
        process started (when it runs alone), or longer ago than a lease lasts, in sessions
        whose lease is free (its holder finished, or died and let it expire). A younger
        question is left to the process that stored it, which is about to claim the lease.
        Returns how many it failed."""
        cutoff = (
            self.started_at
            if self.alone
            else datetime.now(UTC) - timedelta(seconds=self.lease_seconds)
        )
        failed = 0
        for session_id in self.read_model.sessions_waiting():
            if session_id in self._workers or self._stopping:
                continue
            if all(q.asked_at >= cutoff for q in self._load(session_id).pending):
                continue
            if not self.leases.claim(session_id, self.owner, self.lease_seconds):
                continue  # a live process answers it
            try:
                failed += self._fail_waiting(session_id, lambda q: q.asked_at < cutoff)
            finally:
                self.leases.release(session_id, self.owner)
            # A question asked meanwhile may have found the lease taken by this sweep, and
            # its process then left it to the holder: answer it here.
            if self._loop is not None and self._load(session_id).next_question is not None:
                self._loop.call_soon_threadsafe(self.answer_soon, session_id)
        if failed:
            log.warning(
                "failed %d question(s) left unanswered by a stopped server (sweep by %s)",
                failed,
                self.owner,
            )
        return failed

    def _fail_waiting(self, session_id: UUID, which: Callable[[Question], bool]) -> int:
        count = 0

        def fail(chat: ChatSession) -> None:
            nonlocal count
            count = 0
            for q in list(chat.pending):
                if which(q):
                    chat.fail(q.id, "INTERNAL", INTERRUPTED, ANSWERER)
                    count += 1

        self._change(session_id, fail)
        return count

    def stop(self) -> None:
        """At shutdown: stops answering, fails what this process had not answered yet, and
        lets its leases go, so that nothing waits for the recovery sweep."""
        self._stopping = True
        tasks = [*self._workers.values(), *([self._maintenance] if self._maintenance else [])]
        for task in tasks:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(task.cancel)
        for session_id in list(self._workers):
            with contextlib.suppress(Exception):
                self._fail_waiting(session_id, lambda q: True)
            with contextlib.suppress(Exception):
                self.leases.release(session_id, self.owner)
        self._workers.clear()
        self.publisher.close()

    # ---------------------------------------------------------------- mechanics

    def _load(self, session_id: UUID) -> ChatSession:
        try:
            chat: ChatSession = self.store.repository.get(session_id)
        except AggregateNotFoundError:
            raise NotFound(f"there is no chat session {session_id}") from None
        if not isinstance(chat, ChatSession):
            raise NotFound(f"there is no chat session {session_id}")
        return chat

    def _change(self, session_id: UUID, command: Callable[[ChatSession], object]) -> ChatSession:
        """Applies a command to the freshest session, again on a version clash: an answer
        being recorded while a question is asked must not lose either."""
        return change_with_retry(
            self.store,
            lambda: self._load(session_id),
            command,
            too_busy=lambda: RuntimeError(f"chat session {session_id} is too busy to change"),
            attempts=MAX_ATTEMPTS,
        )


def chat_route(event: object) -> list[tuple[str, ChatUpdate]]:
    """A stored chat event as its subscribers see it (a router of the live feed)."""
    if isinstance(event, ChatSession.UserAsked):
        message = ChatMessageView(
            event.message_id,
            event.originator_id,
            "USER",
            event.content,
            event.timestamp,
            status="pending",
        )
        update = ChatUpdate("message", event.originator_id, event.originator_version, True, message)
    elif isinstance(event, ChatSession.AssistantAnswered):
        message = ChatMessageView(
            event.message_id,
            event.originator_id,
            "ASSISTANT",
            event.content,
            event.timestamp,
            sources=tuple(passage_of(s) for s in event.sources),
            reply_to=event.question_id,
            model=event.model,
            usage=Usage(**event.usage),
            latency_ms=event.latency_ms,
            web_sources=tuple(web_source_of(w) for w in event.web_sources),
            workflow_version=event.workflow_version,
            published_version=event.published_version,
        )
        update = ChatUpdate("message", event.originator_id, event.originator_version, True, message)
    elif isinstance(event, ChatSession.AnswerFailed):
        update = ChatUpdate(
            "failed",
            event.originator_id,
            event.originator_version,
            True,
            message_id=event.message_id,
            code=event.code,
            error=event.message,
            question_id=event.question_id,
            workflow_version=event.workflow_version,
            published_version=event.published_version,
        )
    else:
        return []
    return [(chat_topic(event.originator_id), update)]


async def ordered_updates(
    raw: AsyncIterator[Any], seen: int, hold: float = 2.0
) -> AsyncIterator[ChatUpdate]:
    """A session's live updates in the order they happened.

    Stored events and ephemeral updates take different paths (the live feed reads the log;
    the bus carries the rest), so a "thinking" may overtake the question it follows. Each
    ephemeral update names the session version it follows: it is held until the stored event
    of that version has gone out (`seen` starts at the version when the subscriber joined),
    or for `hold` seconds at most, should that event never come through this process.
    """
    loop = asyncio.get_running_loop()
    held: list[ChatUpdate] = []
    held_since = 0.0
    pending: asyncio.Future[Any] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(raw))
            timeout = max(0.0, held_since + hold - loop.time()) if held else None
            done, _ = await asyncio.wait({pending}, timeout=timeout)
            if not done:
                for update in held:
                    yield update
                held.clear()
                continue
            item, pending = pending.result(), None
            update = item if isinstance(item, ChatUpdate) else ChatUpdate.from_bus(item)
            if update.stored:
                yield update
                seen = max(seen, update.version)
                while held and held[0].version <= seen:
                    yield held.pop(0)
            elif held or update.version > seen:
                if not held:
                    held_since = loop.time()
                held.append(update)
            else:
                yield update
    finally:
        if pending is not None:
            pending.cancel()
