"""A fake Ollama server on loopback that speaks Ollama's own API (not the OpenAI-compatible
one), for the real `ollama` client.

Routes (point the client at `server.url`):

- `GET /api/tags`: `{"models": [...]}` with one entry per name in `models`, shaped as Ollama
  answers (name, model, modified_at, size, digest, details).
- `POST /api/chat`: answers `reply` (a string, or a function of the recorded request). With
  `"stream": true` (Ollama's default): NDJSON, one line per word of the reply
  `{"model", "created_at", "message": {"role": "assistant", "content": "…"}, "done": false}`,
  then a last line with empty content, `"done": true`, `"done_reason": "stop"` and the counts
  (`prompt_eval_count`: words of the messages, `eval_count`: words of the reply) and
  durations. Without streaming, one object like that last line with the whole reply. A model
  not in `models` gets a 404 `{"error": "model \\"x\\" not found, try pulling it first"}`.

Errors are `{"error": "…"}`, as an HTTP answer or as a line of the stream
(`Failure.stream_error`). `garbage_next()` makes the next chat stream answer lines that are
not JSON. Requests and their headers are recorded.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from tests.fakes._server import Exchange, FakeModelServer, RecordedRequest, words
from tests.fakes.openai_server import split_reply

NDJSON = "application/x-ndjson"
CREATED_AT = "2026-11-30T10:00:00.000000Z"


def chat_prompt(request: RecordedRequest) -> str:
    return "\n".join(str(m.get("content", "")) for m in (request.body or {}).get("messages", []))


class FakeOllamaServer(FakeModelServer):
    default_reply = "Hello from the fake Ollama server."

    def __init__(self, *args: Any, models: tuple[str, ...] = ("llama3.2:latest",), **kw: Any):
        super().__init__(*args, **kw)
        self.models = models
        self._garbage = 0
        self._garbage_lock = threading.Lock()

    def chat_requests(self) -> list[RecordedRequest]:
        return self.requests_to("/api/chat")

    def garbage_next(self, times: int = 1) -> None:
        """The next chat streams answer lines that are not Ollama's (nor JSON)."""
        with self._garbage_lock:
            self._garbage += times

    # ------------------------------------------------------------ FakeServer

    def error_body(self, status: int, message: str) -> Any:
        return {"error": message}

    def stream_error_event(self, message: str) -> bytes:
        return json.dumps({"error": message}).encode() + b"\n"

    def route(self, exchange: Exchange, cut: int | None) -> bool:
        path, method = exchange.request.path, exchange.request.method
        if method == "GET" and path == "/api/tags":
            exchange.send_json(200, {"models": [_tag(name) for name in self.models]})
            return True
        if method == "POST" and path == "/api/chat":
            self._chat(exchange, cut)
            return True
        return False

    def _chat(self, exchange: Exchange, cut: int | None) -> None:
        request = exchange.request
        body = request.body or {}
        model = str(body.get("model", ""))
        if model not in self.models:
            message = f'model "{model}" not found, try pulling it first'
            exchange.send_json(404, self.error_body(404, message))
            return
        with self._garbage_lock:
            garbage, self._garbage = self._garbage > 0, max(0, self._garbage - 1)
        if garbage:
            lines = [b"<html>this is not ollama</html>\n", b"nor this\n"]
            self.stream_pieces(exchange, lines, cut, NDJSON)
            return
        text = self.reply_for(request)
        counts = {
            "total_duration": 1_000_000,
            "load_duration": 1_000,
            "prompt_eval_count": words(chat_prompt(request)),
            "prompt_eval_duration": 1_000,
            "eval_count": words(text),
            "eval_duration": 1_000,
        }
        if body.get("stream") is False:
            exchange.send_json(200, _line(model, text, done=True, **counts))
            return
        pieces = [
            json.dumps(_line(model, piece, done=False)).encode() + b"\n"
            for piece in split_reply(text)
        ]
        pieces.append(
            json.dumps(_line(model, "", done=True, done_reason="stop", **counts)).encode() + b"\n"
        )
        self.stream_pieces(exchange, pieces, cut, NDJSON)


def _line(model: str, content: str, *, done: bool, **extra: Any) -> dict[str, Any]:
    return {
        "model": model,
        "created_at": CREATED_AT,
        "message": {"role": "assistant", "content": content},
        "done": done,
        **extra,
    }


def _tag(name: str) -> dict[str, Any]:
    family = name.split(":")[0].rstrip("0123456789.") or name
    return {
        "name": name,
        "model": name,
        "modified_at": "2026-11-29T08:00:00.000000Z",
        "size": 2_019_393_189,
        "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": family,
            "families": [family],
            "parameter_size": "3.2B",
            "quantization_level": "Q4_K_M",
        },
    }
