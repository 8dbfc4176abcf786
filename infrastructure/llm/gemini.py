"""Google Gemini through `google-genai` (the maintained SDK) behind the LLM port."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from google import genai
from google.genai import errors, types

from application.ports import LLMRequest, LLMStreamEnd, ProviderError, Usage
from domain.chat import Turn
from infrastructure.llm.retry import RetryingLLM, Trouble, status_trouble
from infrastructure.outbound import OutboundRules, refused_in, sdk_transport

GEMINI_BASE_URL = "https://generativelanguage.googleapis.com/"
API_VERSION = "v1beta"
CLIENTS = 32


def _transport_errors() -> tuple[type[BaseException], ...]:
    """The connection errors of whichever HTTP library the SDK picked (aiohttp if present)."""
    found: list[type[BaseException]] = [ConnectionError]
    for module_name, class_name in (
        ("aiohttp", "ClientError"),
        ("httpx", "TransportError"),
        ("httpx2", "TransportError"),
    ):
        with contextlib.suppress(ImportError, AttributeError):
            found.append(getattr(importlib.import_module(module_name), class_name))
    return tuple(found)


_TRANSPORT_ERRORS = _transport_errors()


class GeminiLLM(RetryingLLM):
    """Streams `generate_content_stream`; clients are kept per key and server (a new one costs
    ~65 ms). Timeouts and retries as RetryingLLM; `request_timeout` caps a whole request,
    because the SDK's own timeout covers the entire stream rather than each read.
    """

    provider = "Gemini"

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 60.0,
        request_timeout: float = 600.0,
        retries: int = 2,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        outbound: OutboundRules | None = None,
    ) -> None:
        super().__init__(base_url, timeout, retries, backoff, max_backoff, outbound)
        self.request_timeout = request_timeout
        self._clients: OrderedDict[tuple[Any, str | None, str | None], genai.Client] = OrderedDict()

    def _classify(self, exc: BaseException) -> Trouble | None:
        return _classify(exc)

    def _client(self, request: LLMRequest) -> genai.Client:
        options = types.HttpOptions(
            # Always explicit, so GOOGLE_GEMINI_BASE_URL in the environment cannot redirect.
            base_url=request.base_url or self.base_url or GEMINI_BASE_URL,
            api_version=API_VERSION,
            timeout=int(self.request_timeout * 1000),
            # One attempt: our loop retries, and without retry options the SDK silently
            # sleeps 1-10 s and tries again on a refused connection.
            retry_options=types.HttpRetryOptions(attempts=1),
            async_client_args=sdk_transport(self.outbound) or None,
        )
        return genai.Client(api_key=request.api_key, enterprise=False, http_options=options)

    async def _once(self, request: LLMRequest) -> AsyncIterator[str | LLMStreamEnd]:
        if not request.api_key:
            # Refused here: the SDK would otherwise pick GEMINI_API_KEY from the environment.
            raise ProviderError("Gemini: no API key was given for this model")
        client = (await self._cached_client(request)).aio
        chunks = await client.models.generate_content_stream(
            model=request.model, contents=_contents(request), config=_config(request)
        )
        try:
            model, usage, produced, blocked = request.model, Usage(), False, None
            async for chunk in chunks:
                model = chunk.model_version or model
                if chunk.usage_metadata is not None:
                    usage = Usage(
                        prompt_tokens=chunk.usage_metadata.prompt_token_count or 0,
                        completion_tokens=chunk.usage_metadata.candidates_token_count or 0,
                    )
                feedback = chunk.prompt_feedback
                if feedback is not None and feedback.block_reason is not None:
                    blocked = str(feedback.block_reason.value)
                text = _text_of(chunk)
                if text:
                    produced = True
                    yield text
            if blocked and not produced:
                raise ProviderError(f"Gemini: the prompt was blocked ({blocked})")
            yield LLMStreamEnd(model=model, usage=usage)
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _cached_client(self, request: LLMRequest) -> genai.Client:
        """A client per event loop, key and server, kept: making one costs ~65 ms (its
        connection pools and TLS contexts), more than many answers take. The least recently
        used ones beyond `CLIENTS` are closed."""
        key = (asyncio.get_running_loop(), request.api_key, request.base_url or self.base_url)
        client = self._clients.pop(key, None) or self._client(request)
        self._clients[key] = client
        while len(self._clients) > CLIENTS:
            _, old = self._clients.popitem(last=False)
            with contextlib.suppress(Exception):
                await old.aio.aclose()
                old.close()  # the SDK opens a synchronous pool too, unused here
        return client


def _contents(request: LLMRequest) -> str | list[types.Content]:
    """The prompt alone, or after the conversation so far (Gemini calls the assistant
    `model`)."""
    if not request.history:
        return request.prompt
    turns = [*request.history, Turn("user", request.prompt)]
    return [
        types.Content(
            role="model" if t.role == "assistant" else "user", parts=[types.Part(text=t.content)]
        )
        for t in turns
    ]


def _config(request: LLMRequest) -> types.GenerateContentConfig | None:
    settings: dict[str, Any] = {}
    if request.instructions:
        settings["system_instruction"] = request.instructions
    if request.temperature is not None:
        settings["temperature"] = request.temperature
    if request.max_tokens is not None:
        settings["max_output_tokens"] = request.max_tokens
    return types.GenerateContentConfig(**settings) if settings else None


def _text_of(chunk: types.GenerateContentResponse) -> str:
    # `chunk.text` warns on non-text parts and joins every candidate; we want the first's text.
    if not chunk.candidates:
        return ""
    content = chunk.candidates[0].content
    if content is None or not content.parts:
        return ""
    return "".join(p.text for p in content.parts if p.text and not p.thought)


def _classify(exc: BaseException) -> Trouble | None:
    if refused := refused_in(exc):
        return Trouble(str(refused))
    if isinstance(exc, errors.APIError):
        detail = str(exc.message or exc.status or "")
        if not isinstance(exc.code, int):
            return Trouble("the server reported an error", detail=detail)
        return status_trouble(exc.code, getattr(exc.response, "headers", None), detail)
    if isinstance(exc, TimeoutError):
        return None  # the shared loop words timeouts
    if isinstance(exc, _TRANSPORT_ERRORS):
        return Trouble("the connection to the server failed", retryable=True)
    if isinstance(exc, ValueError) and type(exc).__module__.startswith("google.genai"):
        return Trouble(f"unexpected answer from the server ({type(exc).__name__})")
    return None
