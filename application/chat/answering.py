"""Answering a chat's questions in the background, across processes.

`ChatService.send` stores a question and hands the session here; the answer runs as an
asyncio task of this process. Questions of a session are answered one at a time, oldest
first (a second message waits for the first answer). Across processes, the process that
answers a session holds a lease on it (a row with an expiry, renewed while it works):
another process that receives a message for that session only stores it, and the holder
picks it up before letting go. A question whose answering process died is failed by the
recovery sweep once that process's lease has expired (see `recover`), and at shutdown a
process fails what it had not answered yet, so nothing is left hanging.

A published session answers from the graph its version pinned (kept in memory: it never
changes); a draft session loads the draft for each question and answers from it as it stands
then, or fails the answer with INVALID_WORKFLOW if it does not validate. Either way the answer
records the workflow version whose graph gave it. Thinking stages and token deltas go out on
the event bus as they come, the last of them before the stored answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import anyio
from eventsourcing.persistence import IntegrityError
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, Status, StatusCode
from structlog.contextvars import bound_contextvars, get_contextvars

from application import telemetry
from application.chat.answer_bounds import storable
from application.chat.engine import Answer, Progress, WorkflowEngine
from application.chat.sessions import ChatSessions
from application.chat.views import ChatReadModel, ChatUpdate, chat_topic
from application.errors import INTERNAL, code_of
from application.eventlog.log import EventLog
from application.ports import ChatLeases, EventBus, Meter, NoMeter
from application.streaming import DeltaBatcher, OffLoopPublisher
from application.workflow.handlers import WorkflowService
from domain.chat import AnsweredBy, ChatSession, Question, answer_id_for
from domain.errors import InvalidWorkflow
from domain.graph import Edge, Node, ValidationIssue

log = logging.getLogger(__name__)

ANSWERER = "assistant"  # the actor of answers and failures
MAX_TROUBLES = 3
GRAPH_CACHE = 256
ASKERS_KEPT = 1024  # the span and log context of questions asked here, until answered

INTERRUPTED = "The server stopped before this question was answered; please ask again."  # recovery
MAX_FAILURE = 2000
UNEXPECTED = "The answer failed unexpectedly; the server logged the details."


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
    code = code_of(error)
    if code == INTERNAL:
        return Failure(code, UNEXPECTED)
    return Failure(code, storable(str(error))[:MAX_FAILURE])  # a provider's words, bounded


class ChatAnswering:
    def __init__(
        self,
        store: EventLog,
        workflows: WorkflowService,
        read_model: ChatReadModel,
        engine: WorkflowEngine,
        bus: EventBus,
        leases: ChatLeases,
        *,
        lease_seconds: float = 30.0,
        alone: bool = False,
        bus_blocks: bool = True,
        meter: Meter | None = None,
    ) -> None:
        """`alone`: no other process shares the store (the embedded default), so whatever was
        waiting when this process started is an orphan at once. `bus_blocks`: publishing does
        I/O (PostgreSQL NOTIFY), so it is done off the event loop."""
        self.store, self.chats = store, ChatSessions(store)
        self.workflows, self.read_model = workflows, read_model
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
        self._draining = False
        self._refused: set[UUID] = set()
        self.meter: Meter = meter or NoMeter()
        # per session, the span and log context of the last request that asked: the answer
        # runs after that request returned, in a task of its own, and links back to it
        self._asked_by: OrderedDict[UUID, tuple[trace.SpanContext, dict[str, Any]]] = OrderedDict()

    def answer_soon(self, session_id: UUID, latest: ChatSession | None = None) -> None:
        """Makes sure this process answers the session's questions (call on the event loop).
        `latest`: the session as this process just saved it, which spares a load."""
        if self._stopping:
            return
        if self._draining and session_id not in self._workers:
            self._refused.add(session_id)  # no new work: failed at stop, as interrupted
            return
        self._loop = asyncio.get_running_loop()
        self._wanted.add(session_id)
        asker, log_context = trace.get_current_span().get_span_context(), get_contextvars()
        if asker.is_valid or log_context:
            # by the question just asked when the caller says which, else by the session
            key = latest.pending[-1].id if latest is not None and latest.pending else session_id
            self._asked_by[key] = (asker, log_context)
            if len(self._asked_by) > ASKERS_KEPT:  # questions answered by another process
                self._asked_by.popitem(last=False)
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
                self._asked_by.pop(session_id, None)

    async def _round(self, session_id: UUID, latest: ChatSession | None) -> bool:
        """Holds the lease while answering what waits; returns whether to look again."""
        if not await self._lease(self.leases.claim, session_id, self.lease_seconds):
            return False  # another process answers it, and looks again before letting go
        chat: ChatSession | None = None
        moved_on = False
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
                moved_on = await self._let_go(session_id, chat)
        # A question asked here, or stored by another process while we held the lease, is
        # ours too.
        return session_id in self._wanted or moved_on

    async def _lease(self, action: Callable[..., Any], session_id: UUID, *args: Any) -> Any:
        # Alone, leases live in memory: a thread would cost more than the call.
        if self.alone:
            return action(session_id, self.owner, *args)
        return await anyio.to_thread.run_sync(action, session_id, self.owner, *args)

    async def _let_go(self, session_id: UUID, chat: ChatSession | None) -> bool:
        """Releases the lease; returns whether the session has moved on past `chat` (a
        question stored by another process meanwhile), read after the release, in the same
        trip off the loop. Alone, nobody else stores questions."""
        if self.alone:
            self.leases.release(session_id, self.owner)
            return False

        def let_go() -> bool:
            self.leases.release(session_id, self.owner)
            return chat is not None and self._moved_on(chat)

        return bool(await anyio.to_thread.run_sync(let_go))

    def _moved_on(self, chat: ChatSession) -> bool:
        return self.chats.moved_on(chat)

    async def _fresh(self, session_id: UUID) -> ChatSession:
        self._wanted.discard(session_id)  # before loading: a later ask sets it again
        return await anyio.to_thread.run_sync(self.chats.load, session_id)

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

        # A trace of its own (the request that asked has ended), linked to that request's
        # span; its log lines carry that request's id.
        asked = self._asked_by.pop(question.id, None) or self._asked_by.pop(session_id, None)
        asker, log_context = asked if asked is not None else (None, {})
        links = [Link(asker)] if asker is not None and asker.is_valid else []
        with (
            bound_contextvars(**log_context),
            telemetry.tracer.start_as_current_span(
                "chat.answer",
                context=otel_context.Context(),
                links=links,
                record_exception=False,
                set_status_on_exception=False,
            ) as span,
        ):
            span.set_attribute(telemetry.STACK_ID, str(chat.workflow_id))
            span.set_attribute(telemetry.SESSION_ID, str(session_id))
            request_id = log_context.get("request_id")
            if isinstance(request_id, str):
                span.set_attribute(telemetry.REQUEST_ID, request_id)
            started = time.perf_counter()
            outcome: Answer | Failure
            by = AnsweredBy()  # unknown until the graph is loaded
            try:
                graph = await self._graph(chat)
                by = graph.by
                if by.workflow_version is not None:
                    span.set_attribute(telemetry.STACK_VERSION, by.workflow_version)
                if by.published_version is not None:
                    span.set_attribute("genai.stack.published_version", by.published_version)
                graph.check()
                outcome = await self.engine.run(
                    chat.workflow_id,
                    graph.nodes,
                    graph.edges,
                    question.content,
                    Progress(stage, tokens.add),
                    history=question.conversation,
                    instructions=question.instructions,
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
            if isinstance(outcome, Failure):
                span.set_status(Status(StatusCode.ERROR, outcome.code))
                span.set_attribute("error.type", outcome.code)
            self.meter.turn("answered" if isinstance(outcome, Answer) else outcome.code)
            log.info(  # with the asking request's id (bound above)
                "question %s of chat %s %s in %d ms",
                question.id,
                session_id,
                "answered" if isinstance(outcome, Answer) else f"failed ({outcome.code})",
                latency_ms,
            )
            with telemetry.tracer.start_as_current_span("chat.record"):
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
            return self.chats.change(chat.id, record)
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
            if all(q.asked_at >= cutoff for q in self.chats.load(session_id).pending):
                continue
            if not self.leases.claim(session_id, self.owner, self.lease_seconds):
                continue  # a live process answers it
            try:
                failed += self._fail_waiting(session_id, lambda q: q.asked_at < cutoff)
            finally:
                self.leases.release(session_id, self.owner)
            # A question asked meanwhile may have found the lease taken by this sweep, and
            # its process then left it to the holder: answer it here.
            if self._loop is not None and self.chats.load(session_id).next_question is not None:
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

        self.chats.change(session_id, fail)
        return count

    async def drain(self, grace_seconds: float) -> bool:
        """At a graceful shutdown, before `stop`: starts no answer for a chat this process
        is not answering already, and waits up to `grace_seconds` for the ones it is (their
        streams go on to their subscribers). Returns whether all finished in time."""
        self._draining = True
        working = [task for task in self._workers.values() if not task.done()]
        if not working:
            return True
        _, late = await asyncio.wait(working, timeout=grace_seconds)
        return not late

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
        for session_id in self._refused - set(self._workers):  # asked while draining
            with contextlib.suppress(Exception):
                # unless another process answers that chat (it holds the lease)
                if self.leases.claim(session_id, self.owner, self.lease_seconds):
                    self._fail_waiting(session_id, lambda q: True)
                    self.leases.release(session_id, self.owner)
        self._refused.clear()
        self._workers.clear()
        self.publisher.close()
