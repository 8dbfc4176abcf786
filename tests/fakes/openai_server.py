"""A fake OpenAI API on loopback that the real `openai` SDK talks to.

Routes (point the SDK at `server.base_url`, which is `<url>/v1`):

- `POST /v1/chat/completions`: answers `reply` (a string, or a function of the recorded
  request returning one). Non-streaming: one `chat.completion`. With `"stream": true`: SSE
  `data: {chat.completion.chunk}` lines, first a role chunk, then one chunk per word of the
  reply (the word keeps its trailing space, so the deltas join to the reply), then a chunk
  with `finish_reason: "stop"`; when `stream_options.include_usage` is set, a last chunk
  with `choices: []` and `usage`; then `data: [DONE]`. `token_delay` seconds pass between
  chunks. Pacing like a real model (what `bench/chat.py` uses): `pieces` groups the reply's
  words into that many deltas instead of one per word, and `piece_gap` seconds pass before
  each delta only (the role chunk comes at once, the end right after the last delta).
- `POST /v1/embeddings`: `input` may be a string, a list of strings, or token arrays (the
  ids are embedded as words). Each input gets `tests.fakes.embedding.hashed_embedding(text,
  dim)` where `dim` is the request's `dimensions` or else the server's `embedding_dim`
  (default 64). `encoding_format: "base64"` (what the SDK sends unless told otherwise)
  answers little-endian float32 bytes in base64, `"float"` answers lists. `model` is echoed.

Usage, everywhere: prompt tokens are the words of the input (for chat, of every message's
text), completion tokens are the number of reply words.

Authorization: the `Authorization: Bearer <key>` header is recorded. When the server is
given `api_key`, any other key gets a 401 whose message quotes the offered key in full
(more carelessly than the real API) so tests can prove that adapters strip it.

Failures: `fail_next(Failure.http(429, retry_after=0.05))`, `Failure.http(500)`,
`Failure.hang(seconds)`, `Failure.cut(after_chunks)`; each applies to one request, in order.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import time
from collections.abc import Callable, Iterator
from typing import Any

from tests.fakes._server import Exchange, FakeModelServer, RecordedRequest, words
from tests.fakes.embedding import hashed_embedding

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    404: "invalid_request_error",
    429: "rate_limit_exceeded",
}


def split_reply(text: str) -> list[str]:
    """The stream's deltas: each word with the whitespace after it (leading space kept)."""
    return re.findall(r"\s*\S+\s*", text) or ([text] if text else [])


def group(deltas: list[str], pieces: int) -> list[str]:
    """`deltas` joined into `pieces` deltas of near-equal word counts (fewer when there are
    fewer words); they still join to the same text."""
    n = min(pieces, len(deltas))
    return ["".join(deltas[i * len(deltas) // n : (i + 1) * len(deltas) // n]) for i in range(n)]


def prompt_text(request: RecordedRequest) -> str:
    """All message text of a chat request, joined by newlines."""
    parts: list[str] = []
    for message in (request.body or {}).get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(p.get("text", "") for p in content if isinstance(p, dict))
    return "\n".join(parts)


class FakeOpenAIServer(FakeModelServer):
    default_reply = "Hello from the fake OpenAI server."
    _ids = 0  # completions made, for their ids
    # token counts to report instead of the words counted (a provider may report anything)
    reported_usage: dict[str, int] | None = None
    # how a model paces its answer: this many content deltas (None: one per word), and the
    # seconds before each of them (on top of `token_delay`, which spaces every chunk)
    pieces: int | None = None
    piece_gap: float = 0.0

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def chat_requests(self) -> list[RecordedRequest]:
        return self.requests_to("/chat/completions")

    # ------------------------------------------------------------ FakeServer

    def error_body(self, status: int, message: str) -> Any:
        return {
            "error": {
                "message": message,
                "type": _ERROR_TYPES.get(status, "server_error"),
                "param": None,
                "code": "invalid_api_key" if status == 401 else None,
            }
        }

    def stream_error_event(self, message: str) -> bytes:
        return b"data: " + json.dumps(self.error_body(500, message)).encode() + b"\n\n"

    def check_key(self, exchange: Exchange) -> bool:
        if self.api_key is None:
            return True
        offered = exchange.request.headers.get("authorization", "").removeprefix("Bearer ")
        if offered == self.api_key:
            return True
        exchange.send_json(401, self.error_body(401, f"Incorrect API key provided: {offered}."))
        return False

    def route(self, exchange: Exchange, cut: int | None) -> bool:
        path, method = exchange.request.path, exchange.request.method
        if method == "POST" and path == "/v1/chat/completions":
            self._chat(exchange, cut)
            return True
        if method == "POST" and path == "/v1/embeddings":
            self._embeddings(exchange)
            return True
        return False

    # ------------------------------------------------------------ chat

    def _chat(self, exchange: Exchange, cut: int | None) -> None:
        request = exchange.request
        body = request.body or {}
        model = str(body.get("model", "gpt-fake"))
        text = self.reply_for(request)
        usage = self.reported_usage or _usage(words(prompt_text(request)), words(text))
        with self._lock:
            self._ids += 1
            completion_id = f"chatcmpl-fake-{self._ids}"
        if not body.get("stream"):
            exchange.send_json(
                200,
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text, "refusal": None},
                            "logprobs": None,
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                },
            )
            return
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        deltas = split_reply(text)
        if self.pieces:
            deltas = group(deltas, self.pieces)
        chunks = _chunks(completion_id, model, deltas, usage, include_usage, self._pace)
        self.stream_pieces(exchange, chunks, cut)

    def _pace(self) -> None:
        self.sleep(self.piece_gap)

    # ------------------------------------------------------------ embeddings

    def _embeddings(self, exchange: Exchange) -> None:
        body = exchange.request.body or {}
        raw = body.get("input", "")
        texts = _texts_of(raw)
        dim = int(body.get("dimensions") or self.embedding_dim)
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(texts):
            vector = hashed_embedding(text, dim)
            encoded: Any = vector
            if as_base64:
                encoded = base64.b64encode(struct.pack(f"<{dim}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(words(t) for t in texts)
        exchange.send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model", "text-embedding-fake"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )


def _texts_of(raw: Any) -> list[str]:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw):
        return [" ".join(f"t{x}" for x in raw)]
    texts: list[str] = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, list):
            texts.append(" ".join(f"t{x}" for x in item))
        else:
            texts.append(str(item))
    return texts


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _chunks(
    completion_id: str,
    model: str,
    deltas: list[str],
    usage: dict[str, int],
    include_usage: bool,
    before_delta: Callable[[], None] = lambda: None,
) -> Iterator[bytes]:
    created = int(time.time())

    def event(choices: list[dict[str, Any]], usage_value: Any = None) -> bytes:
        chunk: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_fake",
            "choices": choices,
        }
        if include_usage:
            chunk["usage"] = usage_value  # null on every chunk but the last, as the API does
        return b"data: " + json.dumps(chunk).encode() + b"\n\n"

    def choice(delta: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]

    yield event(choice({"role": "assistant", "content": "", "refusal": None}))
    for delta in deltas:
        before_delta()
        yield event(choice({"content": delta}))
    yield event(choice({}, "stop"))
    if include_usage:
        yield event([], usage)
    yield b"data: [DONE]\n\n"
