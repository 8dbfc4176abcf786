"""Ollama behind the LLM port, through its own Python client (`ollama`) and wire format:
`POST /api/chat` streamed as NDJSON, usage from `prompt_eval_count` and `eval_count`, and the
models a server has from `GET /api/tags`. An answer names its model `ollama/<model>`, which
the price table knows as free.

Ollama takes no key. The client would add `OLLAMA_API_KEY` from the environment to every
request (Ollama's cloud); a node's address is anyone's choice, so the header is taken off.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import ollama
import pydantic

from application.ports import LLMRequest, LLMStreamEnd, ModelInfo, ProviderError, Usage
from domain.node_settings import OLLAMA_BASE_URL
from infrastructure.llm.retry import RetryingLLM, Trouble, scrub, status_trouble
from infrastructure.outbound import OutboundRules, guarded_transport, refused_in

NOT_OLLAMA = "the server's answer is not in Ollama's format (is this address an Ollama server?)"


class OllamaLLM(RetryingLLM):
    """Streams `/api/chat`; a client per request, closed after it. Timeouts and retries as
    RetryingLLM: `timeout` is the longest silence (a local model loading counts)."""

    provider = "Ollama"

    async def _once(self, request: LLMRequest) -> AsyncIterator[str | LLMStreamEnd]:
        address = request.base_url or self.base_url or OLLAMA_BASE_URL
        async with _client(address, self.timeout, self.outbound) as client:
            parts = await client.chat(
                model=request.model,
                messages=[{"role": "user", "content": request.prompt}],
                stream=True,
                options=_options(request),
            )
            model, usage = request.model, Usage()
            async for part in parts:
                model = part.model or model
                if part.message.content:
                    yield part.message.content
                if part.done:
                    usage = Usage(
                        prompt_tokens=part.prompt_eval_count or 0,
                        completion_tokens=part.eval_count or 0,
                    )
                    break
            else:
                raise _Unfinished
            # named with its provider: the model runs on one's own server, at no cost
            yield LLMStreamEnd(model=f"ollama/{model}", usage=usage)

    def _classify(self, exc: BaseException) -> Trouble | None:
        return _classify(exc)


class OllamaModels:
    """The models an Ollama server has (`GET /api/tags`), for a node's model picker."""

    def __init__(self, timeout: float = 10.0, outbound: OutboundRules | None = None) -> None:
        self.timeout, self.outbound = timeout, outbound

    async def models(self, base_url: str | None) -> list[ModelInfo]:
        address = base_url or OLLAMA_BASE_URL
        try:
            async with _client(address, self.timeout, self.outbound) as client:
                listed = await client.list()
        except Exception as exc:
            trouble = _classify(exc)
            if trouble is None:
                raise
            raise ProviderError(scrub(f"Ollama: {trouble.message}"), trouble.status) from None
        found = [_model_info(m) for m in listed.models if m.model]
        return sorted(found, key=lambda m: m.name)


class _Unfinished(Exception):
    """The stream ended without Ollama's final `done` line."""


def _client(address: str, timeout: float, outbound: OutboundRules | None) -> ollama.AsyncClient:
    options: dict[str, Any] = {}
    if outbound is not None:
        options["transport"] = guarded_transport("httpx", outbound)
    client = ollama.AsyncClient(
        host=address,
        # a silence of `timeout` fails the read; connecting gets as long
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,  # a redirect would leave the address the node was given
        **options,
    )
    client._client.headers.pop("authorization", None)  # see the module's docstring
    return client


def _options(request: LLMRequest) -> dict[str, Any] | None:
    options: dict[str, Any] = {}
    if request.temperature is not None:
        options["temperature"] = request.temperature
    if request.max_tokens is not None:
        options["num_predict"] = request.max_tokens
    return options or None


def _model_info(model: Any) -> ModelInfo:
    details = model.details
    modified = model.modified_at if isinstance(model.modified_at, datetime) else None
    return ModelInfo(
        name=str(model.model),
        size_bytes=int(model.size) if model.size is not None else None,
        parameter_size=getattr(details, "parameter_size", None) or None,
        quantization=getattr(details, "quantization_level", None) or None,
        family=getattr(details, "family", None) or None,
        modified_at=modified,
    )


def _classify(exc: BaseException) -> Trouble | None:
    if refused := refused_in(exc):
        return Trouble(str(refused))
    if isinstance(exc, ollama.ResponseError):
        if exc.status_code and exc.status_code > 0:
            return status_trouble(exc.status_code, None, str(exc.error))
        return Trouble("the server reported an error", detail=str(exc.error))
    if isinstance(exc, UnicodeError | httpx.InvalidURL):  # e.g. a host name IDNA refuses
        return Trouble("the base URL is not a valid address")
    if isinstance(exc, httpx.TimeoutException):
        return Trouble("the request timed out", retryable=True)
    if isinstance(exc, ConnectionError | httpx.TransportError):
        return Trouble("could not reach the server (is Ollama running there?)", retryable=True)
    if isinstance(exc, _Unfinished):
        return Trouble("the answer ended before the server said it was done", retryable=True)
    if isinstance(exc, json.JSONDecodeError | pydantic.ValidationError) or (
        isinstance(exc, TypeError | AttributeError) and _raised_in_client(exc)
    ):
        # a line that is not JSON, or JSON that is not one of Ollama's objects
        return Trouble(NOT_OLLAMA, detail=str(exc)[:200])
    return None


_CLIENT_DIR = os.path.dirname(ollama.__file__)


def _raised_in_client(exc: BaseException) -> bool:
    """Whether the client's own decoding raised `exc` (not a bug of ours): its innermost
    frame is in the `ollama` package."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_filename.startswith(_CLIENT_DIR)
