"""The workflow engine, the live-update ordering and batching, and the price table, with
in-memory stand-ins for the LLM and the retriever (no I/O)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from application.chat.engine import Progress, WorkflowEngine, fill_prompt
from application.chat.live import ordered_updates
from application.chat.views import ChatUpdate
from application.keys import NodeKeys
from application.ports import LLMRequest, LLMStreamEnd, Passage, SearchResult, Usage
from application.streaming import DeltaBatcher, OffLoopPublisher
from domain.chat import Turn
from domain.components import DEFAULT_PROMPT, NodeKind
from domain.errors import InvalidWorkflow
from domain.graph import Edge, Node, Position
from infrastructure.prices import DEFAULT_PRICES, cost_of, price_of

WORKFLOW = uuid.uuid4()
MANUAL = Passage("d1", "manual.pdf", 3, 0, 0.9, "The warranty lasts two years.")


class EchoLLM:
    def __init__(self) -> None:
        self.requests: list[LLMRequest] = []

    async def stream(self, request: LLMRequest) -> AsyncIterator[str | LLMStreamEnd]:
        self.requests.append(request)
        for word in ("It ", "lasts ", "two ", "years."):
            yield word
        yield LLMStreamEnd(model="echo-1", usage=Usage(7, 4))


class Factory:
    def __init__(self, llm: EchoLLM) -> None:
        self.llm = llm

    def for_provider(self, provider: str) -> EchoLLM:
        return self.llm


class Shelf:
    """A retriever over fixed passages per knowledge-base node."""

    def __init__(self, passages: dict[str, list[Passage]]) -> None:
        self.passages = passages
        self.asked: list[tuple[str, str, int]] = []
        self.nodes: list[Node] = []  # the nodes asked for, as the graph run has them

    def retrieve(
        self, workflow_id: Any, node: Node, query: str, top_k: int, where: Any = None
    ) -> list[Passage]:
        self.asked.append((node.id, query, top_k))
        self.nodes.append(node)
        return self.passages[node.id][:top_k]


class NoSecrets:
    def get(self, ref: str) -> str:
        raise KeyError(ref)


def node(node_id: str, kind: NodeKind, **config: Any) -> Node:
    return Node(node_id, kind, node_id, Position(0, 0), config)


def edge(source: str, target: str, handle: str) -> Edge:
    return Edge(f"{source}-{target}", source, target, handle, handle)


def run(engine: WorkflowEngine, nodes: list[Node], edges: list[Edge], question: str) -> Any:
    stages: list[str] = []
    tokens: list[str] = []
    answer = asyncio.run(
        engine.run(WORKFLOW, nodes, edges, question, Progress(stages.append, tokens.append))
    )
    return answer, stages, tokens


def test_the_published_graph_runs_in_order_and_fills_the_template() -> None:
    llm, shelf = EchoLLM(), Shelf({"kb": [MANUAL]})
    engine = WorkflowEngine(Factory(llm), NodeKeys(NoSecrets()), shelf)  # type: ignore[arg-type]
    nodes = [  # listed out of order on purpose
        node("out", NodeKind.OUTPUT),
        node("llm", NodeKind.LLM_ENGINE, provider="openai", model="m", prompt=DEFAULT_PROMPT),
        node("kb", NodeKind.KNOWLEDGE_BASE, topK=2, chunkSize=500),
        node("q", NodeKind.USER_QUERY),
    ]
    edges = [
        edge("llm", "out", "answer"),
        edge("kb", "llm", "context"),
        edge("q", "llm", "query"),
        edge("q", "kb", "query"),
    ]
    answer, stages, tokens = run(engine, nodes, edges, "How long is the warranty?")
    assert stages == ["retrieving", "generating"]
    assert "".join(tokens) == answer.content == "It lasts two years."
    assert shelf.asked == [("kb", "How long is the warranty?", 2)]
    assert shelf.nodes == [nodes[2]]  # its settings choose the index generation asked
    [request] = llm.requests
    assert "Context:\n[1] manual.pdf, p. 3\nThe warranty lasts two years." in request.prompt
    assert request.prompt.endswith("Question: How long is the warranty?\n\nAnswer:")
    assert request.passages == (MANUAL,)
    assert (answer.sources, answer.model, answer.usage) == ((MANUAL,), "echo-1", Usage(7, 4))


def test_every_llm_gets_the_conversation_and_instructions_and_retrieval_the_question() -> None:
    llm, shelf = EchoLLM(), Shelf({"kb": [MANUAL]})
    engine = WorkflowEngine(Factory(llm), NodeKeys(NoSecrets()), shelf)  # type: ignore[arg-type]
    nodes = [
        node("q", NodeKind.USER_QUERY),
        node("kb", NodeKind.KNOWLEDGE_BASE, topK=1),
        node("llm", NodeKind.LLM_ENGINE, provider="openai", model="m", prompt=DEFAULT_PROMPT),
        node("out", NodeKind.OUTPUT),
    ]
    edges = [
        edge("q", "kb", "query"),
        edge("q", "llm", "query"),
        edge("kb", "llm", "context"),
        edge("llm", "out", "answer"),
    ]
    earlier = (Turn("user", "Is it under warranty?"), Turn("assistant", "Yes."))

    asyncio.run(
        engine.run(
            WORKFLOW,
            nodes,
            edges,
            "For how long?",
            Progress(lambda _: None, lambda _: None),
            history=earlier,
            instructions="Answer briefly.",
        )
    )

    [request] = llm.requests
    assert (request.history, request.instructions) == (earlier, "Answer briefly.")
    assert request.query == "For how long?" and request.prompt.endswith(
        "Question: For how long?\n\nAnswer:"
    )
    assert shelf.asked == [("kb", "For how long?", 1)]


def test_an_answer_that_cites_some_passages_has_those_as_its_sources_in_citation_order() -> None:
    faq = Passage("d2", "faq.pdf", None, 0, 0.8, "Returns take 30 days.")
    spec = Passage("d3", "spec.pdf", 1, 0, 0.7, "It weighs 2 kg.")

    class Citing(EchoLLM):
        async def stream(self, request: LLMRequest) -> AsyncIterator[str | LLMStreamEnd]:
            yield "quoted"
            yield LLMStreamEnd(model="extractive", cited=(2, 0))

    engine = WorkflowEngine(
        Factory(Citing()), NodeKeys(NoSecrets()), Shelf({"kb": [MANUAL, faq, spec]})
    )  # type: ignore[arg-type]
    nodes = [
        node("q", NodeKind.USER_QUERY),
        node("kb", NodeKind.KNOWLEDGE_BASE, topK=3),
        node("llm", NodeKind.LLM_ENGINE, provider="extractive"),
        node("out", NodeKind.OUTPUT),
    ]
    edges = [
        edge("q", "kb", "query"),
        edge("q", "llm", "query"),
        edge("kb", "llm", "context"),
        edge("llm", "out", "answer"),
    ]
    answer, _, _ = run(engine, nodes, edges, "weight and warranty?")
    assert answer.sources == (spec, MANUAL)


def test_without_a_knowledge_base_the_question_goes_alone() -> None:
    llm = EchoLLM()
    engine = WorkflowEngine(Factory(llm), NodeKeys(NoSecrets()))  # type: ignore[arg-type]
    nodes = [
        node("q", NodeKind.USER_QUERY),
        node("llm", NodeKind.LLM_ENGINE, prompt="Be brief. {context} {query}"),
        node("out", NodeKind.OUTPUT),
    ]
    answer, stages, _ = run(
        engine, nodes, [edge("q", "llm", "query"), edge("llm", "out", "answer")], "Hi?"
    )
    assert llm.requests[0].prompt == "Hi?"
    assert stages == ["generating"] and answer.sources == () and answer.web_sources == ()


class Web:
    """A web search over fixed results."""

    def __init__(self, results: list[SearchResult]) -> None:
        self.results = results

    async def search(self, query: str, api_key: str | None, limit: int) -> list[SearchResult]:
        return self.results[:limit]


def test_an_answer_carries_the_web_results_its_prompt_was_given() -> None:
    page = SearchResult("Warranty terms", "https://maker.test/warranty", "Two years.")
    llm = EchoLLM()
    engine = WorkflowEngine(Factory(llm), NodeKeys(NoSecrets()), web_search=Web([page]))  # type: ignore[arg-type]
    nodes = [
        node("q", NodeKind.USER_QUERY),
        node("llm", NodeKind.LLM_ENGINE, webSearch=True, prompt="{context}|{query}"),
        node("out", NodeKind.OUTPUT),
    ]
    answer, stages, _ = run(
        engine, nodes, [edge("q", "llm", "query"), edge("llm", "out", "answer")], "warranty?"
    )
    assert stages == ["searching", "generating"]
    assert llm.requests[0].prompt.startswith("[W1] Warranty terms (https://maker.test/warranty)")
    assert (answer.web_sources, answer.sources) == ((page,), ())


def test_two_knowledge_bases_share_the_context() -> None:
    other = Passage("d2", "faq.pdf", None, 4, 0.5, "Returns take 30 days.")
    llm, shelf = EchoLLM(), Shelf({"a": [MANUAL], "b": [other]})
    engine = WorkflowEngine(Factory(llm), NodeKeys(NoSecrets()), shelf)  # type: ignore[arg-type]
    nodes = [
        node("q", NodeKind.USER_QUERY),
        node("a", NodeKind.KNOWLEDGE_BASE),
        node("b", NodeKind.KNOWLEDGE_BASE),
        node("llm", NodeKind.LLM_ENGINE, prompt="{context}|{query}"),
        node("out", NodeKind.OUTPUT),
    ]
    edges = [
        edge("q", "a", "query"),
        edge("q", "b", "query"),
        edge("q", "llm", "query"),
        edge("a", "llm", "context"),
        edge("b", "llm", "context"),
        edge("llm", "out", "answer"),
    ]
    answer, _, _ = run(engine, nodes, edges, "x")
    assert llm.requests[0].prompt == (
        "[1] manual.pdf, p. 3\nThe warranty lasts two years.\n\n[2] faq.pdf\nReturns take 30 days.|x"
    )
    assert answer.sources == (MANUAL, other)


def test_a_stored_key_that_cannot_be_read_is_an_invalid_workflow() -> None:
    engine = WorkflowEngine(Factory(EchoLLM()), NodeKeys(NoSecrets()))  # type: ignore[arg-type]
    key = {"secretRef": "sec_gone", "hint": "…abcd"}
    nodes = [
        node("q", NodeKind.USER_QUERY),
        node("llm", NodeKind.LLM_ENGINE, provider="openai", model="m", apiKey=key),
        node("out", NodeKind.OUTPUT),
    ]
    with pytest.raises(InvalidWorkflow, match="stored API key"):
        run(engine, nodes, [edge("q", "llm", "query"), edge("llm", "out", "answer")], "x")


def test_a_template_keeps_its_other_braces() -> None:
    assert fill_prompt('{"q": "{query}"} {context}', "hi", "C") == '{"q": "hi"} C'


def test_the_first_delta_goes_at_once_and_the_rest_in_batches() -> None:
    sent: list[str] = []

    async def scenario() -> None:
        batcher = DeltaBatcher(sent.append, interval=0.05)
        batcher.add("a")
        batcher.add("b")
        batcher.add("c")
        assert sent == ["a"]
        await asyncio.sleep(0.08)
        assert sent == ["a", "bc"]
        await asyncio.sleep(0.08)
        batcher.add("d")  # quiet for longer than the interval: at once
        batcher.add("e")
        batcher.flush()
        assert sent == ["a", "bc", "d", "e"]

    asyncio.run(scenario())


def test_the_publisher_joins_queued_deltas_of_one_answer_in_order() -> None:
    published: list[tuple[str, dict[str, Any]]] = []

    class Bus:
        def publish(self, topic: str, message: dict[str, Any]) -> None:
            published.append((topic, message))

    publisher = OffLoopPublisher(Bus(), max_delta=5)  # type: ignore[arg-type]
    batch = [
        ("t", {"kind": "thinking", "stage": "generating"}),
        ("t", {"kind": "token", "messageId": "m", "delta": "abc"}),
        ("t", {"kind": "token", "messageId": "m", "delta": "de"}),
        ("t", {"kind": "token", "messageId": "m", "delta": "fghijkl"}),
    ]
    joined = publisher._joined(batch)
    assert [m.get("delta", m.get("stage")) for _, m in joined] == [
        "generating",
        "abcde",
        "fghij",
        "kl",
    ]

    async def scenario() -> None:
        for topic, message in batch:
            publisher.send(topic, message)
        await publisher.flush()

    asyncio.run(scenario())
    publisher.close()
    assert "".join(m.get("delta", "") for _, m in published) == "abcdefghijkl"


def _update(kind: str, version: int, stored: bool, stage: str = "") -> ChatUpdate:
    return ChatUpdate(kind, WORKFLOW, version, stored, stage=stage or kind)  # type: ignore[arg-type]


def test_an_update_that_overtook_its_stored_event_waits_for_it() -> None:
    async def scenario() -> list[str]:
        queue: asyncio.Queue[Any] = asyncio.Queue()

        async def raw() -> AsyncIterator[Any]:
            while True:
                yield await queue.get()

        for item in (
            _update("thinking", 3, False).to_bus(),  # follows version 3, not seen yet
            _update("token", 3, False).to_bus(),
            _update("message", 3, True),
            _update("thinking", 2, False, "early").to_bus(),  # follows what the subscriber had seen
        ):
            queue.put_nowait(item)
        got = []
        async for update in ordered_updates(raw(), seen=2, hold=5):
            got.append(f"{update.kind}:{update.stage}")
            if len(got) == 4:
                break
        return got

    assert asyncio.run(scenario()) == [
        "message:message",
        "thinking:thinking",
        "token:token",
        "thinking:early",
    ]


def test_held_updates_go_out_when_their_event_never_comes() -> None:
    async def scenario() -> list[str]:
        async def raw() -> AsyncIterator[Any]:
            yield _update("thinking", 9, False).to_bus()
            await asyncio.sleep(10)

        got = []
        async for update in ordered_updates(raw(), seen=1, hold=0.05):
            got.append(update.kind)
            break
        return got

    assert asyncio.run(scenario()) == ["thinking"]


def test_prices_match_families_and_unknown_models_have_no_cost() -> None:
    assert price_of(DEFAULT_PRICES, "gpt-4o-mini-2024-07-18") == DEFAULT_PRICES["gpt-4o-mini"]
    assert price_of(DEFAULT_PRICES, "gpt-4o-2024-08-06") == DEFAULT_PRICES["gpt-4o"]
    assert price_of(DEFAULT_PRICES, "models/gemini-2.5-flash") == DEFAULT_PRICES["gemini-2.5-flash"]
    assert cost_of(DEFAULT_PRICES, "gpt-4o-mini", Usage(1_000_000, 1_000_000)) == pytest.approx(
        0.75
    )
    assert cost_of(DEFAULT_PRICES, "llama3.1:8b", Usage(10, 10)) is None


def test_the_publisher_gives_a_bus_that_sends_several_at_once_its_updates_together_in_order() -> (
    None
):
    calls: list[list[tuple[str, dict[str, Any]]]] = []
    gate = threading.Event()

    class Bus:
        def publish(self, topic: str, message: dict[str, Any]) -> None:
            gate.wait(5)  # the first update holds the thread while the others queue
            calls.append([(topic, message)])

        def publish_many(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
            calls.append(messages)

    publisher = OffLoopPublisher(Bus())  # type: ignore[arg-type]

    async def scenario() -> None:
        publisher.send("a", {"kind": "thinking", "stage": "generating"})
        for n in range(5):
            publisher.send("b" if n % 2 else "c", {"kind": "thinking", "stage": str(n)})
        gate.set()
        await publisher.flush()

    asyncio.run(scenario())
    publisher.close()
    sent = [(topic, m["stage"]) for call in calls for topic, m in call]
    assert sent == [("a", "generating"), ("c", "0"), ("b", "1"), ("c", "2"), ("b", "3"), ("c", "4")]
    assert len(calls) < len(sent)  # the queued ones went together


def test_the_publisher_hands_over_at_once_what_needs_no_io_but_never_ahead_of_the_thread() -> None:
    """A bus that can publish an update here without I/O (PostgreSQL's, while no other
    process listens) gets it on the caller's thread at once; while updates sent before are
    still in the thread, later ones queue behind them, so the order holds."""
    delivered: list[str] = []
    threads: list[str] = []
    gate = threading.Event()
    here = {"ok": True}

    class Bus:
        def publish(self, topic: str, message: dict[str, Any]) -> None:
            self.publish_many([(topic, message)])

        def publish_many(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
            gate.wait(5)  # the thread's publishing held while the loop goes on
            loop.call_soon_threadsafe(delivered.extend, [m["stage"] for _, m in messages])

        def publish_here(self, topic: str, message: dict[str, Any]) -> bool:
            if not here["ok"]:
                return False
            threads.append(threading.current_thread().name)
            delivered.append(message["stage"])
            return True

    publisher = OffLoopPublisher(Bus())  # type: ignore[arg-type]

    async def scenario() -> None:
        publisher.send("a", {"kind": "thinking", "stage": "1"})  # here, at once
        assert delivered == ["1"]
        here["ok"] = False  # a count is due: through the thread
        publisher.send("a", {"kind": "thinking", "stage": "2"})
        here["ok"] = True
        publisher.send("a", {"kind": "thinking", "stage": "3"})  # behind "2"
        assert delivered == ["1"]
        gate.set()
        await publisher.flush()
        assert delivered == ["1", "2", "3"]
        publisher.send("a", {"kind": "thinking", "stage": "4"})  # nothing in flight: here
        assert delivered == ["1", "2", "3", "4"]
        await publisher.flush()  # nothing to wait for

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(scenario())
    finally:
        publisher.close()
        loop.close()
    assert threads == ["MainThread", "MainThread"]
