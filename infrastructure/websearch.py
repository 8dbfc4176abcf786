"""Web search through SerpAPI (or any server speaking its `GET /search` protocol)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from application.ports import ProviderError, SearchResult
from infrastructure.llm.retry import RetryPolicy, is_retryable_status, retry_after_seconds, scrub

log = logging.getLogger(__name__)

SERPAPI_BASE_URL = "https://serpapi.com"
# SerpAPI answers 200 with this error when the search simply found nothing.
_NO_RESULTS = "hasn't returned any results"


class _HideKeysInUrls(logging.Filter):
    """httpx logs each request's URL at INFO, and SerpAPI takes its key only in the URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                scrub(str(arg)) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


logging.getLogger("httpx").addFilter(_HideKeysInUrls())


class SerpApiSearch:
    """`search()` asks `{base_url}/search` with engine `engine`; 429/5xx, timeouts and lost
    connections get `retries` further tries. The key travels in the query string, as
    SerpAPI wants, so every message that could carry the URL is scrubbed."""

    def __init__(
        self,
        base_url: str = SERPAPI_BASE_URL,
        timeout: float = 10.0,
        engine: str = "google",
        retries: int = 1,
        backoff: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.engine = engine
        self.policy = RetryPolicy(attempts=retries + 1, backoff=backoff)
        self._transport = transport

    async def search(self, query: str, api_key: str | None, limit: int) -> list[SearchResult]:
        if not api_key:
            raise ProviderError("Web search: no SerpAPI key was given")
        if not query.strip() or limit < 1:
            return []
        params = {"q": query, "api_key": api_key, "engine": self.engine, "num": str(limit)}
        async with httpx.AsyncClient(
            base_url=self.base_url, timeout=self.timeout, transport=self._transport
        ) as client:
            payload = await self._get(client, params, api_key)
        return _results(payload, limit)

    async def _get(
        self, client: httpx.AsyncClient, params: dict[str, str], api_key: str
    ) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            status: int | None = None
            retry_after: float | None = None
            try:
                response = await client.get("/search", params=params)
            except httpx.TimeoutException:
                message, retryable = "the search timed out", True
            except httpx.TransportError:
                message, retryable = "could not reach the search server", True
            else:
                payload = _json(response)
                if response.is_success and (
                    "error" not in payload or _NO_RESULTS in str(payload["error"])
                ):
                    return payload
                status = response.status_code
                message = str(payload.get("error") or response.reason_phrase or "search failed")
                message = f"{message} (HTTP {status})"
                retryable = is_retryable_status(status)
                retry_after = retry_after_seconds(response.headers)
            safe = scrub(f"Web search: {message}", (api_key,))
            wait = self.policy.delay(attempt, retry_after) if retryable else None
            if wait is None:
                raise ProviderError(safe, status)
            log.info("%s; retrying in %.2fs", safe, wait)
            await asyncio.sleep(wait)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _results(payload: dict[str, Any], limit: int) -> list[SearchResult]:
    results: list[SearchResult] = []
    for item in payload.get("organic_results") or []:
        if not isinstance(item, dict) or not item.get("link"):
            continue
        results.append(
            SearchResult(
                title=str(item.get("title") or item["link"]),
                url=str(item["link"]),
                snippet=str(item.get("snippet") or ""),
            )
        )
        if len(results) == limit:
            break
    return results
