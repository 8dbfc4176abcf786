"""A real `genai-stack serve` process with OTLP configured: its spans reach an OTLP/HTTP
receiver on loopback (protobuf POSTs at /v1/traces, decoded with opentelemetry-proto), its
responses echo the request id (or give one when the client's is not a safe token), and its
JSON log lines carry that id, also those of the answer that runs after the request."""

from __future__ import annotations

import gzip
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.conftest import make_settings
from tests.fakes import FakeOpenAIServer
from tests.integration.chat_ops import SEND, SESSION, START, fake_llm
from tests.integration.servers import Server, env_for
from tests.integration.workflow_ops import ADD, CONNECT, CREATE, PUBLISH, wait_for

pytestmark = pytest.mark.timeout(180)


class OtlpReceiver:
    """An OTLP/HTTP trace receiver: keeps the spans of every export request it decodes."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver.paths.append(self.path)
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                for resource_spans in request.resource_spans:
                    resource = {
                        a.key: a.value.string_value for a in resource_spans.resource.attributes
                    }
                    for scope_spans in resource_spans.scope_spans:
                        for span in scope_spans.spans:
                            receiver.spans.append(
                                {
                                    "name": span.name,
                                    "service": resource.get("service.name"),
                                    "trace_id": span.trace_id.hex(),
                                    "span_id": span.span_id.hex(),
                                    "parent": span.parent_span_id.hex(),
                                    "links": [link.span_id.hex() for link in span.links],
                                    "attributes": {a.key: _value(a.value) for a in span.attributes},
                                }
                            )
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def named(self, name: str) -> list[dict[str, Any]]:
        return [s for s in list(self.spans) if s["name"] == name]

    def __enter__(self) -> OtlpReceiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as r:
        yield r


def call(
    base: str, query: str, headers: dict[str, str] | None = None, **variables: Any
) -> httpx.Response:
    response = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers=headers or {},
        timeout=30,
    )
    assert "errors" not in response.json(), response.json()
    return response


def data(base: str, query: str, **variables: Any) -> dict[str, Any]:
    return call(base, query, **variables).json()["data"]


def log_lines(server: Server) -> list[dict[str, Any]]:
    """The server's JSON log lines (its output is not a terminal: JSON)."""
    found = []
    for line in server.log_text().splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def test_spans_go_to_the_otlp_receiver_and_the_request_id_to_the_response_and_the_logs(
    tmp_path: Path, receiver: OtlpReceiver, fake_openai: FakeOpenAIServer
) -> None:
    key = "sk-otlp-" + uuid.uuid4().hex
    settings = make_settings(tmp_path / "data", None)
    env = env_for(
        settings,
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
        OTEL_SERVICE_NAME="genai-test",
        OTEL_BSP_SCHEDULE_DELAY="100",  # milliseconds between the exporter's batches
        GENAI_LOG_LEVEL="INFO",
    )
    server = Server(env, tmp_path)
    try:
        base = server.wait_ready()
        w = data(base, CREATE, name="Traced")["createWorkflow"]["id"]
        for kind, node_id, config in (
            ("USER_QUERY", "q", None),
            ("LLM_ENGINE", "llm", fake_llm(fake_openai, apiKey=key)),
            ("OUTPUT", "out", None),
        ):
            data(base, ADD, w=w, kind=kind, x=0, y=0, id=node_id, config=config)
        data(base, CONNECT, w=w, s="q", t="llm")
        data(base, CONNECT, w=w, s="llm", t="out")
        data(base, PUBLISH, w=w)
        session = data(base, START, w=w, v=None, d=False)["startChat"]["id"]

        # a client's safe id is kept and echoed; one that is not is replaced by a fresh one
        request_id = "rid-" + uuid.uuid4().hex[:12]
        sent = call(base, SEND, headers={"X-Request-ID": request_id}, s=session, c="ping?")
        assert sent.headers["x-request-id"] == request_id
        unsafe = call(base, "{ __typename }", headers={"X-Request-ID": "a b{c}" + "x" * 200})
        given = unsafe.headers["x-request-id"]
        assert len(given) == 32 and int(given, 16) >= 0
        assert call(base, "{ __typename }").headers["x-request-id"] != given

        def answered() -> bool:
            messages = data(base, SESSION, s=session)["chatSession"]["messages"]
            return len(messages) == 2 and messages[1]["status"] == "answered"

        wait_for(answered, 30)

        # the spans reach the receiver, at /v1/traces, in the service's name
        answer = wait_for(lambda: receiver.named("chat.answer"), 30)[0]
        assert set(receiver.paths) == {"/v1/traces"}
        assert answer["service"] == "genai-test"
        assert answer["attributes"]["genai.request_id"] == request_id
        assert answer["attributes"]["genai.stack.id"] == w
        [send] = receiver.named("chat.send")
        assert answer["links"] == [send["span_id"]]
        llm = wait_for(lambda: receiver.named("chat.llm"), 30)[0]
        assert llm["parent"] == answer["span_id"]
        assert llm["attributes"]["gen_ai.system"] == "openai"
        servers = wait_for(
            lambda: [
                s
                for s in receiver.spans
                if s["attributes"].get("genai.request_id") == request_id and s["parent"] == ""
            ],
            30,
        )
        assert {s["trace_id"] for s in servers} >= {send["trace_id"]}
        for span in list(receiver.spans):
            assert key[-12:] not in json.dumps(span)
            assert "ping?" not in json.dumps(span)

        # every log line is JSON; the answer's carries the asking request's id
        lines = wait_for(
            lambda: [
                line
                for line in log_lines(server)
                if line.get("request_id") == request_id and "answered" in line.get("event", "")
            ],
            30,
        )
        assert session in lines[0]["event"]
        assert lines[0]["level"] == "info" and lines[0]["logger"] == "application.chat.answering"
    finally:
        server.stop()
    text = server.log_text()
    assert key not in text
    for line in text.splitlines():
        if line.strip() and not line.startswith("GenAI Stack on"):
            assert line.startswith("{"), line  # JSON, with the context merged
