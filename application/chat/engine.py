"""The workflow engine: runs a published graph for one question.

Nodes run in topological order; each node's outputs go to the inputs wired to them:
the User Query's query to knowledge bases and to the LLM, the knowledge bases' passages to
the LLM's context, the LLM's answer to the Output. What the Output receives is the answer.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

import anyio
from opentelemetry.trace import Status, StatusCode

from application import telemetry
from application.chat.answer_bounds import AnswerText, clamped
from application.errors import code_of
from application.keys import KeyUnavailable, NodeKeys
from application.ports import (
    LLM,
    LLMFactory,
    LLMRequest,
    LLMStreamEnd,
    Meter,
    NoMeter,
    Passage,
    ProviderError,
    Retriever,
    SearchResult,
    Usage,
    WebSearch,
)
from domain.chat import Turn
from domain.components import NodeKind
from domain.errors import InvalidCommand, InvalidWorkflow
from domain.graph import Edge, Node, topological_order
from domain.node_settings import (
    KnowledgeBaseSettings,
    LlmSettings,
    ProviderAccess,
    parse_settings,
)

WEB_RESULTS = 5


@dataclass(frozen=True)
class Answer:
    content: str
    sources: tuple[Passage, ...] = ()
    model: str = ""
    usage: Usage = field(default_factory=Usage)
    web_sources: tuple[SearchResult, ...] = ()  # the web results the prompt was given


@dataclass(frozen=True)
class Progress:
    """Where the engine reports as it goes; both are called on the event loop, must not block."""

    stage: Callable[[str], None]
    token: Callable[[str], None]


@dataclass
class _Run:
    question: str
    progress: Progress
    history: tuple[Turn, ...] = ()
    instructions: str = ""
    generated: int = 0
    delivered: list[Answer] = field(default_factory=list)


def format_context(passages: Sequence[Passage], web: Sequence[SearchResult] = ()) -> str:
    """The passages as the prompt's {context}: numbered like the extractive answer's citations."""
    parts = []
    for number, p in enumerate(passages, start=1):
        page = f", p. {p.page}" if p.page is not None else ""
        parts.append(f"[{number}] {p.filename}{page}\n{p.text.strip()}")
    for number, r in enumerate(web, start=1):
        parts.append(f"[W{number}] {r.title} ({r.url})\n{r.snippet.strip()}")
    return "\n\n".join(parts)


def fill_prompt(template: str, query: str, context: str) -> str:
    # Plain replacement, not str.format: a template may hold other braces (JSON examples).
    return template.replace("{query}", query).replace("{context}", context)


class WorkflowEngine:
    def __init__(
        self,
        llms: LLMFactory,
        keys: NodeKeys,
        retriever: Retriever | None = None,
        web_search: WebSearch | None = None,
        meter: Meter | None = None,
    ) -> None:
        self.llms, self.keys = llms, keys
        self.retriever, self.web_search = retriever, web_search
        self.meter: Meter = meter or NoMeter()
        self._llms: dict[str, LLM] = {}  # by provider, once made

    async def run(
        self,
        workflow_id: UUID,
        nodes: Sequence[Node],
        edges: Sequence[Edge],
        question: str,
        progress: Progress,
        *,
        history: Sequence[Turn] = (),
        instructions: str = "",
    ) -> Answer:
        """`history`: the conversation before the question, `instructions`: the asker's;
        every LLM of the graph gets both (retrieval and web search use the question alone)."""
        by_id = {n.id: n for n in nodes}
        inputs: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        wired: dict[str, set[str]] = defaultdict(set)
        for e in edges:
            wired[e.target].add(e.target_handle)
        run = _Run(question, progress, tuple(history), instructions)
        for node_id in topological_order(by_id, edges):
            node, given = by_id[node_id], inputs[node_id]
            outputs = await self._run_node(workflow_id, node, given, wired[node_id], run)
            for e in edges:
                if e.source == node_id:
                    inputs[e.target][e.target_handle].extend(outputs.get(e.source_handle, []))
        return _combined(run.delivered)

    async def _run_node(
        self,
        workflow_id: UUID,
        node: Node,
        given: Mapping[str, list[Any]],
        wired: set[str],
        run: _Run,
    ) -> dict[str, list[Any]]:
        if node.kind == NodeKind.USER_QUERY:
            return {"query": [run.question]}
        if node.kind == NodeKind.KNOWLEDGE_BASE:
            passages = await self._retrieve(workflow_id, node, _query(given), run.progress)
            return {"context": passages}
        if node.kind == NodeKind.LLM_ENGINE:
            if run.generated:  # a second LLM feeding the Output: its text follows the first's
                run.progress.token("\n\n")
            answer = await self._generate(
                node, _query(given), given.get("context", []), "context" in wired, run
            )
            run.generated += 1
            return {"answer": [answer]}
        if node.kind == NodeKind.OUTPUT:
            run.delivered.extend(given.get("answer", []))
        return {}

    async def _retrieve(
        self, workflow_id: UUID, node: Node, query: str, progress: Progress
    ) -> list[Passage]:
        if self.retriever is None:
            raise InvalidWorkflow("knowledge bases are not available on this server")
        progress.stage("retrieving")
        top_k = _settings(node, KnowledgeBaseSettings).top_k
        retriever = self.retriever
        with telemetry.tracer.start_as_current_span("chat.retrieve") as span:
            span.set_attribute("genai.node.id", node.id)
            span.set_attribute("genai.retrieval.top_k", top_k)
            passages = await anyio.to_thread.run_sync(
                lambda: retriever.retrieve(workflow_id, node, query, top_k)
            )
            span.set_attribute("genai.retrieval.passages", len(passages))
            return passages

    async def _generate(
        self,
        node: Node,
        query: str,
        passages: list[Passage],
        has_knowledge: bool,
        run: _Run,
    ) -> Answer:
        progress = run.progress
        settings = _settings(node, LlmSettings)
        provider = settings.provider
        web: list[SearchResult] = []
        if settings.web_search is not None:
            web = await self._search(node, settings.web_search, query, progress)
        if has_knowledge or web:
            prompt = fill_prompt(settings.prompt, query, format_context(passages, web))
        else:
            prompt = query  # a graph without a knowledge base sends the question alone
        access = settings.access
        request = LLMRequest(
            provider=provider,
            model=settings.model,
            prompt=prompt,
            query=query,
            passages=tuple(passages),
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            api_key=None if access is None else await self._key(node, access),
            base_url=None if access is None else access.base_url,
            history=run.history,
            instructions=run.instructions,
        )
        llm = await self._llm(node, provider)
        progress.stage("generating")
        answer = AnswerText()
        end = LLMStreamEnd(model=request.model or provider)
        with telemetry.tracer.start_as_current_span(
            "chat.llm", record_exception=False, set_status_on_exception=False
        ) as span:
            span.set_attribute(telemetry.PROVIDER, provider)
            span.set_attribute(telemetry.MODEL, request.model or provider)
            span.set_attribute("genai.prompt.chars", len(prompt))
            span.set_attribute("genai.prompt.passages", len(passages))
            started, first = time.perf_counter(), True
            try:
                async for item in llm.stream(request):
                    if isinstance(item, LLMStreamEnd):
                        end = item
                    elif item and not answer.full:  # past the limit, the rest is dropped
                        if first:
                            first = False
                            waited = time.perf_counter() - started
                            self.meter.first_token(provider, waited)
                            span.set_attribute(telemetry.FIRST_TOKEN_MS, round(waited * 1000))
                        progress.token(answer.add(item))
                    # A fast stream's chunks may all be buffered already: let the other
                    # chats, the subscribers and the batched deltas' timer run between two.
                    await asyncio.sleep(0)
            except Exception as e:
                # the code only: a provider's message may quote the request
                code = code_of(e)
                span.set_status(Status(StatusCode.ERROR, code))
                span.set_attribute("error.type", code)
                if isinstance(e, ProviderError):  # by the provider's HTTP status when known
                    status = e.status
                    self.meter.provider_error(provider, str(status) if status else code)
                raise
            usage = clamped(end.usage)
            span.set_attribute(telemetry.RESPONSE_MODEL, end.model)
            span.set_attribute(telemetry.INPUT_TOKENS, usage.prompt_tokens)
            span.set_attribute(telemetry.OUTPUT_TOKENS, usage.completion_tokens)
            self.meter.generated(provider, end.model, usage)
        sources = tuple(passages) if end.cited is None else tuple(passages[i] for i in end.cited)
        return Answer(answer.text(), sources, end.model, usage, tuple(web))

    async def _search(
        self, node: Node, access: ProviderAccess, query: str, progress: Progress
    ) -> list[SearchResult]:
        if self.web_search is None:
            raise InvalidWorkflow(f"{node.label}: web search is not available on this server")
        progress.stage("searching")
        key = await self._key(node, access)
        try:
            return await self.web_search.search(query, key, WEB_RESULTS)
        except ProviderError:
            raise
        except Exception as e:  # an unexpected answer from the search server, not a bug of ours
            raise ProviderError(f"Web search failed ({type(e).__name__})") from None

    async def _llm(self, node: Node, provider: str) -> LLM:
        """The provider's adapter: made off the loop the first time (it imports the provider's
        SDK, about a second), then kept, so a turn does not pay a thread hop for it."""
        llm = self._llms.get(provider)
        if llm is None:
            try:
                llm = await asyncio.to_thread(self.llms.for_provider, provider)
            except ValueError as e:
                raise InvalidWorkflow(f"{node.label}: {e}") from None
            self._llms[provider] = llm
        return llm

    async def _key(self, node: Node, access: ProviderAccess) -> str | None:
        try:
            if not access.key_ref:  # the server's key, or none: no secret store to read
                return self.keys.key_for(node.label, access)
            return await anyio.to_thread.run_sync(self.keys.key_for, node.label, access)
        except KeyUnavailable as e:
            raise InvalidWorkflow(str(e)) from None


_S = TypeVar("_S", LlmSettings, KnowledgeBaseSettings)


def _settings(node: Node, kind: type[_S]) -> _S:
    """The node's typed settings; a config that does not parse stops the run, in words."""
    try:
        settings = parse_settings(node.kind, node.config)
    except InvalidCommand as e:
        raise InvalidWorkflow(f"{node.label}: {e}") from None
    assert isinstance(settings, kind)
    return settings


def _query(given: Mapping[str, list[Any]]) -> str:
    queries = [q for q in given.get("query", []) if isinstance(q, str)]
    return "\n".join(queries)


def _combined(answers: list[Answer]) -> Answer:
    if not answers:
        raise InvalidWorkflow("nothing reached the Output: publish a graph that ends in one")
    if len(answers) == 1:
        return answers[0]
    return Answer(
        content="\n\n".join(a.content for a in answers),
        sources=tuple(p for a in answers for p in a.sources),
        model=", ".join(dict.fromkeys(a.model for a in answers)),
        usage=Usage(
            prompt_tokens=sum(a.usage.prompt_tokens for a in answers),
            completion_tokens=sum(a.usage.completion_tokens for a in answers),
        ),
        web_sources=tuple(r for a in answers for r in a.web_sources),
    )
