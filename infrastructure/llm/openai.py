"""OpenAI chat completions, and any OpenAI-compatible server (Ollama, vLLM, LM Studio)
reached through a base URL, behind the LLM port."""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx2
import openai

from application.ports import LLMRequest, LLMStreamEnd, ProviderError, Usage
from infrastructure.llm.retry import RetryingLLM, Trouble, status_trouble
from infrastructure.outbound import OutboundRules, refused_in, sdk_transport

OPENAI_BASE_URL = "https://api.openai.com/v1"
# Local OpenAI-compatible servers want no key, but the SDK refuses to start without one.
KEYLESS_PLACEHOLDER = "not-needed"
# The SDK's own default pool size, which a transport of ours must be given explicitly.
CONNECTION_LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)
CLIENTS_KEPT = 64  # SDK clients per event loop, by key and server, the least recently used go


class OpenAILLM(RetryingLLM):
    """Streams a chat completion; one SDK client per key and server (keys come per request),
    all over one shared connection pool. Timeouts and retries as RetryingLLM."""

    provider = "OpenAI"

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 60.0,
        retries: int = 2,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        outbound: OutboundRules | None = None,
    ) -> None:
        super().__init__(base_url, timeout, retries, backoff, max_backoff, outbound)
        self._pools: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, openai.DefaultAsyncHttpxClient
        ] = weakref.WeakKeyDictionary()
        self._clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, OrderedDict[tuple[str, str], openai.AsyncOpenAI]
        ] = weakref.WeakKeyDictionary()

    async def _once(self, request: LLMRequest) -> AsyncIterator[str | LLMStreamEnd]:
        base_url = request.base_url or self.base_url
        api_key = request.api_key or (KEYLESS_PLACEHOLDER if base_url else None)
        if not api_key:
            raise ProviderError("OpenAI: no API key was given for this model")
        client = self._client(api_key, base_url or OPENAI_BASE_URL)
        # The SDK's request, errors and SSE decoding, but each chunk as the JSON it arrived
        # as: building the SDK's typed models was half this server's CPU per streamed answer.
        chunks = await client.post(
            "/chat/completions",
            body=_params(request, base_url),
            cast_to=object,
            stream=True,
            stream_cls=openai.AsyncStream[object],
        )
        try:
            model, usage = request.model, Usage()
            async for chunk in chunks:
                if not isinstance(chunk, dict):
                    continue
                model = chunk.get("model") or model
                if isinstance(counted := chunk.get("usage"), dict):
                    usage = Usage(
                        prompt_tokens=counted.get("prompt_tokens") or 0,
                        completion_tokens=counted.get("completion_tokens") or 0,
                    )
                if content := _first_delta(chunk):
                    yield content
            yield LLMStreamEnd(model=model, usage=usage)
        finally:
            await chunks.close()

    def _classify(self, exc: BaseException) -> Trouble | None:
        return _classify(exc)

    def _client(self, api_key: str, base_url: str) -> openai.AsyncOpenAI:
        """The SDK client for this key and server, kept while they are in use: a new one per
        request cost each chat turn its set-up and a thread hop (the SDK reads the platform
        off the loop once per client)."""
        loop = asyncio.get_running_loop()
        pool = self._pool()
        clients = self._clients.setdefault(loop, OrderedDict())
        key = (api_key, base_url)
        client = clients.get(key)
        if client is None or client._client is not pool:  # the pool was made again
            client = clients[key] = openai.AsyncOpenAI(
                api_key=api_key,
                # Passed even for the default so that OPENAI_BASE_URL cannot redirect the key.
                base_url=base_url,
                timeout=self.timeout,
                max_retries=0,  # our loop retries, see infrastructure.llm.retry
                http_client=pool,
            )
            if len(clients) > CLIENTS_KEPT:
                clients.popitem(last=False)
        clients.move_to_end(key)
        return client

    def _pool(self) -> openai.DefaultAsyncHttpxClient:
        """One connection pool per event loop, shared by the per-request SDK clients (which
        must not close it): a new pool costs ~20 ms (its TLS context), more than a whole
        answer from a local model, and it opens a new connection each time."""
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None or pool.is_closed:
            pool = self._pools[loop] = openai.DefaultAsyncHttpxClient(
                **sdk_transport(self.outbound, limits=CONNECTION_LIMITS)
            )
        return pool


def _params(request: LLMRequest, base_url: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "model": request.model,
        "messages": _messages(request),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.temperature is not None:
        params["temperature"] = request.temperature
    if request.max_tokens is not None:
        # OpenAI's reasoning models refuse `max_tokens`; compatible servers know only it.
        name = "max_completion_tokens" if _is_openai(base_url) else "max_tokens"
        params[name] = request.max_tokens
    return params


def _messages(request: LLMRequest) -> list[dict[str, str]]:
    """The asker's instructions as a system message, the conversation so far, then the
    prompt (the question, with its context when the graph gives one)."""
    messages = [{"role": "system", "content": request.instructions}] if request.instructions else []
    messages += [{"role": t.role, "content": t.content} for t in request.history]
    return [*messages, {"role": "user", "content": request.prompt}]


def _first_delta(chunk: dict[str, Any]) -> str | None:
    """The text the first choice adds, if any."""
    for choice in chunk.get("choices") or ():
        if isinstance(choice, dict) and choice.get("index", 0) == 0:
            content = (choice.get("delta") or {}).get("content")
            return content if isinstance(content, str) else None
    return None


def _is_openai(base_url: str | None) -> bool:
    return base_url is None or urlsplit(base_url).hostname == "api.openai.com"


def _classify(exc: BaseException) -> Trouble | None:
    if refused := refused_in(exc):
        return Trouble(str(refused))
    if isinstance(exc, openai.APITimeoutError):
        return Trouble("the request timed out", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        return Trouble("could not reach the server", retryable=True)
    if isinstance(exc, openai.APIStatusError):
        return status_trouble(exc.status_code, exc.response.headers, _message_of(exc))
    if isinstance(exc, openai.OpenAIError):
        return Trouble("the server reported an error", detail=_message_of(exc))
    return None


def _message_of(exc: openai.OpenAIError) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__
