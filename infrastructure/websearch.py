"""Web search through SerpAPI (or any server speaking its `GET /search` protocol)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from application.ports import ProviderError, SearchResult
from infrastructure.llm.retry import RetryPolicy, Trouble, scrub, status_trouble
from infrastructure.outbound import OutboundRules, guarded_transport, refused_in

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
        outbound: OutboundRules | None = None,
    ) -> None:
        """`outbound`: where requests may go (None: anywhere, for tests of the adapter)."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.engine = engine
        self.policy = RetryPolicy(attempts=retries + 1, backoff=backoff)
        self.outbound = outbound

    async def search(self, query: str, api_key: str | None, limit: int) -> list[SearchResult]:
        if not api_key:
            raise ProviderError("Web search: no SerpAPI key was given")
        if not query.strip() or limit < 1:
            return []
        params = {"q": query, "api_key": api_key, "engine": self.engine, "num": str(limit)}
        # a client (and transport) per search: closing the client closes its transport
        transport = guarded_transport("httpx", self.outbound) if self.outbound else None
        async with httpx.AsyncClient(
            base_url=self.base_url, timeout=self.timeout, transport=transport
        ) as client:
            payload = await self._get(client, params, api_key)
        return _results(payload, limit)

    async def _get(
        self, client: httpx.AsyncClient, params: dict[str, str], api_key: str
    ) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await client.get("/search", params=params)
            except httpx.TimeoutException:
                trouble = Trouble("the search timed out", retryable=True)
            except httpx.TransportError as e:
                refused = refused_in(e)
                trouble = (
                    Trouble(str(refused))
                    if refused
                    else Trouble("could not reach the search server", retryable=True)
                )
            else:
                payload = _json(response)
                if response.is_success and (
                    "error" not in payload or _NO_RESULTS in str(payload["error"])
                ):
                    return payload
                said = str(payload.get("error") or response.reason_phrase or "")
                trouble = status_trouble(response.status_code, response.headers, said)
            safe = scrub(f"Web search: {trouble.message}", (api_key,))
            said = (
                scrub(f" (the server said: {trouble.detail})", (api_key,)) if trouble.detail else ""
            )
            wait = self.policy.delay(attempt, trouble.retry_after) if trouble.retryable else None
            if wait is None:
                log.warning("%s%s", safe, said)
                raise ProviderError(safe, trouble.status)
            log.info("%s%s; retrying in %.2fs", safe, said, wait)
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
