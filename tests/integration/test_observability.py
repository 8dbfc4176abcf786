"""Traces, metrics and request ids of a real chat turn and a real ingestion: the GraphQL
request's span, the answer's own trace linked to it (the answer runs after the mutation
returned), retrieval and the LLM call with their attributes and never a key or the question;
the document's extract → chunk → embed → index; the Prometheus series a dashboard reads; the
request id echoed and carried into the answer's spans."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from application import telemetry
from infrastructure.settings import Settings
from interfaces.app import create_app
from tests.fakes import FakeOpenAIServer
from tests.integration.chat_ops import SEND, ChatWatcher, fake_llm, start_chat, upload, wait_indexed
from tests.integration.gql import GQL
from tests.integration.workflow_ops import ADD, CONNECT, CREATE, PUBLISH, wait_for
from tests.pdfs import multi_page_pdf

pytestmark = pytest.mark.timeout(300)

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "genai-stack.json"
QUESTION = "How tall is the Skerryvore lighthouse?"


@pytest.fixture
def traced(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    """The SDK with an in-memory exporter, for this test only: the application's tracer
    and the app's request spans use it (the process's global provider stays the API's
    no-op, so other tests are not traced)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(telemetry, "tracer", provider.get_tracer("genai_stack"))
    try:
        yield provider, exporter
    finally:
        provider.shutdown()


def knowledge_base_on(fake: FakeOpenAIServer) -> dict[str, object]:
    return {
        "embedder": "openai",
        "embeddingModel": "text-embedding-3-small",
        "baseUrl": fake.base_url,
        "topK": 2,
    }


def lighthouse_stack(
    client: TestClient, gql: GQL, fake: FakeOpenAIServer, key: str
) -> tuple[str, str]:
    """User Query → Knowledge Base → LLM → Output with a 3-page PDF indexed, published;
    returns (workflow id, document id)."""
    llm = fake_llm(fake, apiKey=key, prompt="Use this:\n{context}\n\nQuestion: {query}")
    w = gql(CREATE, name="Lighthouses")["createWorkflow"]["id"]
    for kind, node_id, config in (
        ("USER_QUERY", "q", None),
        ("KNOWLEDGE_BASE", "kb", knowledge_base_on(fake)),
        ("LLM_ENGINE", "llm", llm),
        ("OUTPUT", "out", None),
    ):
        gql(ADD, w=w, kind=kind, x=0, y=0, id=node_id, config=config)
    for source, target in (("q", "kb"), ("q", "llm"), ("kb", "llm"), ("llm", "out")):
        gql(CONNECT, w=w, s=source, t=target)
    document = upload(client, w, "facts.pdf", multi_page_pdf(3))
    wait_indexed(gql, document)
    gql(PUBLISH, w=w)
    return w, document


def ask(
    client: TestClient, session: str, question: str, request_id: str
) -> tuple[Any, list[dict[str, Any]]]:
    """sendMessage with an X-Request-ID, the answer awaited on chatEvents; (response, events)."""
    with ChatWatcher(client, session) as watcher:
        response = client.post(
            "/graphql",
            json={"query": SEND, "variables": {"s": session, "c": question}},
            headers={"X-Request-ID": request_id},
        )
        assert "errors" not in response.json(), response.json()
        return response, watcher.until_final()


def named(found: Sequence[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in found if s.name == name]


def root_of(span: ReadableSpan, found: Sequence[ReadableSpan]) -> ReadableSpan | None:
    """The span's trace's root, when it and every span between have ended."""
    by_id = {s.context.span_id: s for s in found}
    while span.parent is not None:
        parent = by_id.get(span.parent.span_id)
        if parent is None:
            return None
        span = parent
    return span


def every_value(found: Sequence[ReadableSpan]) -> list[str]:
    values: list[str] = []
    for s in found:
        values += [str(v) for v in (s.attributes or {}).values()]
        values += [str(e.attributes) for e in s.events]
        values.append(s.name)
    return values


def test_a_turn_and_an_ingestion_are_traced_with_their_structure_and_no_secret(
    settings: Settings,
    fake_openai: FakeOpenAIServer,
    traced: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, spans = traced
    key = "sk-trace-" + uuid.uuid4().hex
    fake_openai.reply = "It is 48 metres tall [1]."
    with TestClient(create_app(settings, tracer_provider=provider)) as client:
        gql = GQL(client)
        w, document = lighthouse_stack(client, gql, fake_openai, key)
        pages = gql("query($d: UUID!) { document(id: $d) { pageCount chunkCount } }", d=document)
        session = start_chat(gql, w)
        request_id = "req-" + uuid.uuid4().hex[:8]
        response, events = ask(client, session, QUESTION, request_id)
        assert response.headers["x-request-id"] == request_id
        answer = events[-1]["message"]
        assert answer["role"] == "ASSISTANT"

        def finished() -> bool:
            # the request's server span ends once the app returned, after the client has
            # the response: wait for it as for the answer's
            done = spans.get_finished_spans()
            sends = named(done, "chat.send")
            return bool(sends and named(done, "chat.answer") and root_of(sends[0], done))

        wait_for(finished)
    found = spans.get_finished_spans()

    # the ingestion: a trace of its own, a span per stage, with what it did
    [doc_span] = named(found, "ingestion.document")
    assert doc_span.parent is None
    attributes = dict(doc_span.attributes or {})
    assert attributes["genai.document.id"] == document
    assert attributes["genai.stack.id"] == w
    assert attributes["genai.document.pages"] == pages["document"]["pageCount"] == 3
    assert attributes["genai.document.chunks"] == pages["document"]["chunkCount"]
    assert attributes["genai.document.bytes"] == len(multi_page_pdf(3))
    stages = sorted(
        (s for s in found if s.parent and s.parent.span_id == doc_span.context.span_id),
        key=lambda s: s.start_time or 0,
    )
    assert [s.name for s in stages] == [
        "ingestion.extract",
        "ingestion.chunk",
        "ingestion.embed",
        "ingestion.index",
    ]
    assert all(s.context.trace_id == doc_span.context.trace_id for s in stages)

    # the request that asked: FastAPI's server span, and chat.send within it
    [send] = named(found, "chat.send")
    server = root_of(send, found)
    assert server is not None and server.kind == trace.SpanKind.SERVER
    assert (server.attributes or {})["genai.request_id"] == request_id
    assert (server.attributes or {})["http.response.status_code"] == 200
    assert (server.attributes or {})["http.route"] == "/graphql"
    assert (send.attributes or {})["genai.stack.id"] == w

    # the answer: a trace of its own (it runs after the request returned), linked to chat.send
    [answer_span] = named(found, "chat.answer")
    assert answer_span.parent is None
    assert answer_span.context.trace_id != send.context.trace_id
    assert [link.context.span_id for link in answer_span.links] == [send.context.span_id]
    answer_attributes = dict(answer_span.attributes or {})
    assert answer_attributes["genai.stack.id"] == w
    assert answer_attributes["genai.chat.session_id"] == session
    assert answer_attributes["genai.request_id"] == request_id
    assert answer_attributes["genai.stack.published_version"] == answer["publishedVersion"] == 1
    assert answer_attributes["genai.stack.version"] == answer["workflowVersion"]

    children = {
        s.name: s
        for s in found
        if s.parent is not None and s.parent.span_id == answer_span.context.span_id
    }
    assert set(children) == {"chat.retrieve", "chat.llm", "chat.record"}
    assert children["chat.retrieve"].start_time < children["chat.llm"].start_time  # type: ignore[operator]
    assert children["chat.llm"].end_time <= children["chat.record"].start_time  # type: ignore[operator]
    retrieved = (children["chat.retrieve"].attributes or {})["genai.retrieval.passages"]
    assert retrieved == len(answer["sources"]) >= 1
    llm = dict(children["chat.llm"].attributes or {})
    assert llm["gen_ai.system"] == "openai"
    assert llm["gen_ai.request.model"] == llm["gen_ai.response.model"] == "gpt-4o-mini"
    assert llm["gen_ai.usage.input_tokens"] == answer["usage"]["promptTokens"]
    assert llm["gen_ai.usage.output_tokens"] == answer["usage"]["completionTokens"]
    assert isinstance(llm["genai.first_token_ms"], int)

    # neither the key (nor a piece of it) nor the question is in any span
    for value in every_value(found):
        assert key[-12:] not in value
        assert "Skerryvore" not in value


def metric_values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def value(values: dict[Any, float], name: str, **labels: str) -> float:
    return values.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_a_turn_its_tokens_and_cost_and_an_ingestion(
    tmp_path: Path, postgres_url: str, fake_openai: FakeOpenAIServer
) -> None:
    from tests.conftest import make_settings

    fake_openai.reply = "It is 48 metres tall [1]."
    settings = make_settings(tmp_path / "data", postgres_url)
    with TestClient(create_app(settings)) as client:
        gql = GQL(client)
        before = metric_values(client.get("/metrics").text)
        w, _ = lighthouse_stack(client, gql, fake_openai, "sk-metrics")
        session = start_chat(gql, w)
        _, events = ask(client, session, QUESTION, "metrics-1")
        answer = events[-1]["message"]

        def settled() -> dict[Any, float] | None:
            values = metric_values(client.get("/metrics").text)
            lag = values.get(("genai_projection_lag_events", (("projection", "chats"),)))
            return values if lag == 0 else None

        after = wait_for(settled)
        text = client.get("/metrics").text

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("genai_chat_turns_total", outcome="answered") == 1
    llm = {"provider": "openai", "model": "gpt-4o-mini"}
    assert grew("genai_llm_tokens_total", kind="input", **llm) == answer["usage"]["promptTokens"]
    assert (
        grew("genai_llm_tokens_total", kind="output", **llm) == answer["usage"]["completionTokens"]
    )
    price = settings.model_prices()["gpt-4o-mini"]
    cost = (
        answer["usage"]["promptTokens"] * price.input
        + answer["usage"]["completionTokens"] * price.output
    ) / 1e6
    assert grew("genai_llm_cost_usd_total", **llm) == pytest.approx(cost)
    assert grew("genai_llm_time_to_first_token_seconds_count", provider="openai") == 1
    assert grew("genai_ingestion_pages_total") == 3
    assert grew("genai_ingestion_documents_total", outcome="indexed") == 1
    for projection in ("workflows", "documents", "ingestion", "chats", "workspaces", "audit_log"):
        assert ("genai_projection_lag_events", (("projection", projection),)) in after
    assert value(after, "genai_ingestion_queue_depth") == 0
    # no stack, session or document id is ever a label
    for ident in (w, session):
        assert ident not in text


def test_a_provider_error_is_counted_by_status(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    from tests.conftest import make_settings

    with (
        FakeOpenAIServer(api_key="sk-the-right-one") as fake,
        TestClient(create_app(make_settings(tmp_path / "data", None))) as client,
    ):
        gql = GQL(client)
        before = metric_values(client.get("/metrics").text)
        w = gql(CREATE, name="Refused")["createWorkflow"]["id"]
        for kind, node_id, config in (
            ("USER_QUERY", "q", None),
            ("LLM_ENGINE", "llm", fake_llm(fake, apiKey="sk-wrong")),
            ("OUTPUT", "out", None),
        ):
            gql(ADD, w=w, kind=kind, x=0, y=0, id=node_id, config=config)
        for source, target in (("q", "llm"), ("llm", "out")):
            gql(CONNECT, w=w, s=source, t=target)
        gql(PUBLISH, w=w)
        _, events = ask(client, start_chat(gql, w), "hello", "refused-1")
        assert events[-1]["code"] == "PROVIDER_ERROR"
        after = metric_values(client.get("/metrics").text)
    errors = value(after, "genai_provider_errors_total", provider="openai", code="401")
    assert errors - value(before, "genai_provider_errors_total", provider="openai", code="401") == 1
    failed = value(after, "genai_chat_turns_total", outcome="PROVIDER_ERROR")
    assert failed - value(before, "genai_chat_turns_total", outcome="PROVIDER_ERROR") == 1


def served_names(text: str) -> set[str]:
    """The metric names /metrics declares: its samples' names, and for a labelled family
    with no series yet (no provider error so far), the names its series will have."""
    names = set()
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    for family in text_string_to_metric_families(text):
        names.update(sample.name for sample in family.samples)
        names.update(family.name + suffix for suffix in suffixes.get(family.type, ("",)))
    return names


def test_the_dashboard_reads_only_metrics_the_server_serves(tmp_path: Path) -> None:
    """Every metric a panel of deploy/grafana/genai-stack.json queries is one /metrics serves."""
    from tests.conftest import make_settings

    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    assert exprs
    with TestClient(create_app(make_settings(tmp_path / "data", None))) as client:
        served = served_names(client.get("/metrics").text)
    used = {name for expr in exprs for name in re.findall(r"\b(genai_[a-z0-9_]+)", expr)}
    assert used
    assert used <= served, used - served
    # and the dashboard uses the series of the issue
    for wanted in (
        "genai_chat_turns_total",
        "genai_llm_time_to_first_token_seconds_bucket",
        "genai_llm_tokens_total",
        "genai_llm_cost_usd_total",
        "genai_provider_errors_total",
        "genai_projection_lag_events",
        "genai_ingestion_queue_depth",
        "genai_ingestion_pages_total",
    ):
        assert wanted in used, wanted
