"""A fake Gemini API (generativelanguage, v1beta) on loopback for the real `google-genai` SDK.

Point the SDK at it with `genai.Client(api_key=..., http_options=types.HttpOptions(
base_url=server.url, api_version="v1beta"))`.

Routes (`{model}` is the bare model name, e.g. `gemini-2.5-flash`):

- `POST /v1beta/models/{model}:streamGenerateContent?alt=sse`: SSE lines
  `data: {"candidates":[{"content":{"role":"model","parts":[{"text":"<word> "}]},"index":0}],
  "modelVersion":"{model}"}`, one per word of the reply (each word keeps its trailing
  space, so the texts join to the reply), `token_delay` seconds apart; the last one also
  carries `"finishReason":"STOP"` and `usageMetadata`.
- `POST /v1beta/models/{model}:generateContent`: the same reply in one candidate, with
  `usageMetadata`.
- `POST /v1beta/models/{model}:batchEmbedContents`: what `client.models.embed_content`
  sends on the Gemini API (it always batches): `{"requests":[{"model":"models/{model}",
  "content":{"parts":[{"text":...}]}, "outputDimensionality": n?, "taskType": ...?}]}`,
  answered `{"embeddings":[{"values":[...]}]}` in request order.
- `POST /v1beta/models/{model}:embedContent`: `{"content":{...}}` answered
  `{"embedding":{"values":[...]}}`.

Embeddings are `tests.fakes.embedding.hashed_embedding(text, dim)` of the parts' text joined
by spaces, `dim` being `outputDimensionality` or else the server's `embedding_dim` (64).

`reply` is a string or a function of the recorded request. Usage: `promptTokenCount` is
the words of every text part sent, `candidatesTokenCount` the words of the reply.

The key arrives in header `x-goog-api-key` (or `?key=`). When the server is given `api_key`,
any other key gets the API's 400 `INVALID_ARGUMENT`, whose message quotes the offered key in
full so tests can prove adapters strip it. Failures: as in `tests.fakes._server.Failure`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from tests.fakes._server import Exchange, FakeModelServer, RecordedRequest, words
from tests.fakes.embedding import hashed_embedding
from tests.fakes.openai_server import split_reply

_ROUTE = re.compile(r"^/v1beta/models/(?P<model>[^/:]+):(?P<method>[A-Za-z]+)$")

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def prompt_text(request: RecordedRequest) -> str:
    """Every text part of a generate request's `contents`, joined by newlines."""
    texts: list[str] = []
    for content in (request.body or {}).get("contents", []):
        texts.extend(_parts_text(content))
    return "\n".join(texts)


def _parts_text(content: Any) -> list[str]:
    if not isinstance(content, dict):
        return []
    return [p["text"] for p in content.get("parts", []) if isinstance(p, dict) and "text" in p]


class FakeGeminiServer(FakeModelServer):
    default_reply = "Hello from the fake Gemini server."

    def generate_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.lower().endswith("generatecontent")]

    # ------------------------------------------------------------ FakeServer

    def error_body(self, status: int, message: str) -> Any:
        return {
            "error": {
                "code": status,
                "message": message,
                "status": _STATUS_NAMES.get(status, "UNKNOWN"),
            }
        }

    def check_key(self, exchange: Exchange) -> bool:
        if self.api_key is None:
            return True
        request = exchange.request
        offered = request.headers.get("x-goog-api-key") or request.query.get("key", "")
        if offered == self.api_key:
            return True
        message = f"API key not valid. Please pass a valid API key. (got {offered})"
        exchange.send_json(400, self.error_body(400, message))
        return False

    def route(self, exchange: Exchange, cut: int | None) -> bool:
        match = _ROUTE.match(exchange.request.path)
        if exchange.request.method != "POST" or match is None:
            return False
        model, method = match["model"], match["method"]
        if method == "streamGenerateContent":
            self._generate(exchange, model, cut, stream=True)
        elif method == "generateContent":
            self._generate(exchange, model, cut, stream=False)
        elif method == "batchEmbedContents":
            requests = (exchange.request.body or {}).get("requests", [])
            exchange.send_json(200, {"embeddings": [self._embed(r) for r in requests]})
        elif method == "embedContent":
            exchange.send_json(200, {"embedding": self._embed(exchange.request.body or {})})
        else:
            return False
        return True

    # ------------------------------------------------------------ generate

    def _generate(self, exchange: Exchange, model: str, cut: int | None, stream: bool) -> None:
        request = exchange.request
        text = self.reply_for(request)
        prompt, completion = words(prompt_text(request)), words(text)
        usage = {
            "promptTokenCount": prompt,
            "candidatesTokenCount": completion,
            "totalTokenCount": prompt + completion,
        }
        if not stream:
            exchange.send_json(
                200,
                {
                    "candidates": [_candidate(text, finished=True)],
                    "usageMetadata": usage,
                    "modelVersion": model,
                    "responseId": "fake-response",
                },
            )
            return
        self.stream_pieces(exchange, _events(split_reply(text), usage, model), cut)

    def _embed(self, request: Any) -> dict[str, list[float]]:
        text = " ".join(_parts_text(request.get("content")))
        dim = int(request.get("outputDimensionality") or self.embedding_dim)
        return {"values": hashed_embedding(text, dim)}


def _candidate(text: str, finished: bool) -> dict[str, Any]:
    candidate: dict[str, Any] = {
        "content": {"role": "model", "parts": [{"text": text}]},
        "index": 0,
    }
    if finished:
        candidate["finishReason"] = "STOP"
    return candidate


def _events(deltas: list[str], usage: dict[str, int], model: str) -> Iterator[bytes]:
    deltas = deltas or [""]
    for i, delta in enumerate(deltas):
        last = i == len(deltas) - 1
        event: dict[str, Any] = {"candidates": [_candidate(delta, finished=last)]}
        if last:
            event["usageMetadata"] = usage
        event["modelVersion"] = model
        yield b"data: " + json.dumps(event).encode() + b"\r\n\r\n"
