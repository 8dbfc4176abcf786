"""Timeouts, bounded retries and safe error messages, shared by the provider adapters.

Retries live here rather than in the SDKs so that both providers behave alike, backoff is
small enough to test, and a timeout means the same thing everywhere: no byte of progress
for `timeout` seconds (until the first delta, or between two deltas), however long the
whole answer takes.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from application.ports import LLMRequest, LLMStreamEnd, ProviderError
from infrastructure.outbound import OutboundRules

log = logging.getLogger(__name__)

T = TypeVar("T")

_KEY_PATTERNS = (
    re.compile(r"sk-[A-Za-z0-9_\-]{8,}"),  # OpenAI style
    re.compile(r"AIza[0-9A-Za-z_\-]{20,}"),  # Google style
    re.compile(r"(?i)((?:api_?key|key)=)[^&\s\"']+"),  # keys carried in URLs
    re.compile(r"(?i)(bearer\s+)[^\s\"']+"),
)
_MAX_MESSAGE = 400


def scrub(message: str, secrets: Iterable[str | None] = ()) -> str:
    """The message without the given secrets or anything shaped like a key, kept short."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            message = message.replace(secret, "[redacted]")
    for pattern in _KEY_PATTERNS:
        message = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[redacted]", message)
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def retry_after_seconds(headers: Mapping[str, str] | Any) -> float | None:
    """The server's Retry-After (seconds or an HTTP date), if it sent a usable one."""
    if headers is None:
        return None
    try:
        millis = headers.get("retry-after-ms")
        if millis is not None:
            return max(0.0, float(millis) / 1000)
        value = headers.get("retry-after")
    except (AttributeError, ValueError):
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        return None if parsed is None else max(0.0, email.utils.mktime_tz(parsed) - time.time())


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` counts the first try; waits double from `backoff` up to `max_backoff`.

    A server's Retry-After is honoured up to `max_retry_after`; beyond that the error is
    reported at once rather than holding a chat for minutes.
    """

    attempts: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before try `attempt + 1`, or None when it should not happen."""
        if attempt >= self.attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        # Up to a quarter off, so that chats refused together do not all return together.
        return min(self.backoff * 2 ** (attempt - 1), self.max_backoff) * random.uniform(0.75, 1)


@dataclass(frozen=True)
class Trouble:
    """What went wrong with one try, as a person should read it."""

    message: str  # safe to show anyone: never the provider's own words
    status: int | None = None
    retryable: bool = False
    retry_after: float | None = None
    detail: str = ""  # the provider's own words, for the server's log (scrubbed there)


_STATUS_WORDS = {
    400: "the server refused the request; check the model and settings",
    401: "the server refused the API key",
    403: "the server refused the API key",
    404: "the model or the address was not found",
    408: "the server timed out",
    413: "the request was too large for the server",
    422: "the server refused the request; check the model and settings",
    429: "the server is rate limiting or the quota is used up",
}


def status_words(status: int | None) -> str:
    """What a provider's HTTP status means, in words safe to show to anyone: a provider's
    own error text may quote the request, a key, or whatever a hostile server chose."""
    if status is None:
        return "the request failed"
    words = _STATUS_WORDS.get(status) or (
        "the server failed" if status >= 500 else "the request failed"
    )
    return f"{words} (HTTP {status})"


def status_trouble(status: int, headers: Any, detail: str) -> Trouble:
    """The trouble of a provider's HTTP error answer."""
    return Trouble(
        status_words(status),
        status=status,
        retryable=is_retryable_status(status),
        retry_after=retry_after_seconds(headers),
        detail=detail,
    )


def is_retryable_status(status: int | None) -> bool:
    return status is not None and (status in (408, 429) or status >= 500)


async def stream_with_retries(
    start: Callable[[], AsyncIterator[T]],
    classify: Callable[[BaseException], Trouble | None],
    *,
    provider: str,
    policy: RetryPolicy,
    timeout: float,
    secrets: Iterable[str | None] = (),
) -> AsyncIterator[T]:
    """Runs `start()` and relays its items, trying again on retryable trouble.

    `timeout` bounds the silence before each item (TimeoutError counts as retryable).

    A try is repeated only while it has yielded nothing: once text reached the reader, a
    second try would repeat it, so a failure mid-answer is reported instead. Exceptions that
    `classify` does not recognise are bugs and propagate unchanged.
    """
    secrets = tuple(secrets)
    attempt = 0
    while True:
        attempt += 1
        produced = False
        stream = start()
        try:
            while True:
                try:
                    async with asyncio.timeout(timeout):
                        item = await anext(stream)
                except StopAsyncIteration:
                    return
                produced = True
                yield item
        except ProviderError:
            raise
        except Exception as exc:
            trouble = classify(exc)
            if trouble is None and isinstance(exc, TimeoutError):
                trouble = Trouble(f"timed out: no response within {timeout:g} s", retryable=True)
            if trouble is None:
                raise
            message = scrub(f"{provider}: {trouble.message}", secrets)
            said = scrub(f" (the server said: {trouble.detail})", secrets) if trouble.detail else ""
            wait = (
                None
                if produced or not trouble.retryable
                else policy.delay(attempt, trouble.retry_after)
            )
            if wait is None:
                log.warning("gave up after %d attempt(s): %s%s", attempt, message, said)
                raise ProviderError(message, trouble.status) from None
            log.info("%s%s; retrying in %.2fs (attempt %d)", message, said, wait, attempt + 1)
            await asyncio.sleep(wait)
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()


class RetryingLLM:
    """The LLM port for a provider whose one try is `_once(request)` and whose SDK errors
    `_classify` names: each answer is streamed through `stream_with_retries`.

    `timeout` is the longest silence allowed (before the first delta or between two);
    `retries` is how many further tries a 408/429/5xx, a timeout or a lost connection
    gets before anything was streamed, waiting `backoff` seconds, doubling each time.
    `base_url` is the default server; a request's own `base_url` wins over it.
    """

    provider = "LLM"

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 60.0,
        retries: int = 2,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        outbound: OutboundRules | None = None,
    ) -> None:
        """`outbound`: where requests may go (None: anywhere, for tests of the adapter)."""
        self.base_url = base_url
        self.timeout = timeout
        self.outbound = outbound
        self.policy = RetryPolicy(attempts=retries + 1, backoff=backoff, max_backoff=max_backoff)

    def stream(self, request: LLMRequest) -> AsyncIterator[str | LLMStreamEnd]:
        return stream_with_retries(
            lambda: self._once(request),
            self._classify,
            provider=self.provider,
            policy=self.policy,
            timeout=self.timeout,
            secrets=(request.api_key,),
        )

    def _once(self, request: LLMRequest) -> AsyncIterator[str | LLMStreamEnd]:
        raise NotImplementedError

    def _classify(self, exc: BaseException) -> Trouble | None:
        raise NotImplementedError
