"""Embeddings from OpenAI, or any server that speaks its API (Ollama, vLLM, LM Studio)."""

from __future__ import annotations

import json
import logging
from typing import Any

import openai

from application.ports import ProviderError
from infrastructure.embedders._remote import (
    BatchingEmbedder,
    remote_model_id,
    scrubbed,
    server_of,
)
from infrastructure.llm.retry import status_words
from infrastructure.outbound import OutboundRules, refused_in, sdk_transport

log = logging.getLogger(__name__)

DEFAULT_MODEL = "text-embedding-3-small"
DEFAULT_HOST = "api.openai.com"
# OpenAI takes up to 2048 inputs and 300k tokens per request; 128 chunks of ~250 tokens
# stay far below both and keep one failed request cheap to retry.
DEFAULT_BATCH = 128
# Local servers do not check the key, but the SDK refuses to start without one.
_KEYLESS = "not-needed"


class OpenAIEmbedder(BatchingEmbedder):
    """Sync client: embedders run in worker threads. Retries are the SDK's own (with
    backoff on 408, 409, 429, 5xx and lost connections), `max_retries` times per batch.
    Every failure is a ProviderError whose message never contains the key."""

    def __init__(
        self,
        api_key: str | None,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        *,
        batch_size: int = DEFAULT_BATCH,
        max_retries: int = 3,
        timeout: float = 60.0,
        outbound: OutboundRules | None = None,
    ) -> None:
        if batch_size <= 0:
            raise ValueError("batch_size must be positive")
        self.model = model or DEFAULT_MODEL
        self.batch_size = batch_size
        self._api_key = api_key
        try:
            self._client = openai.OpenAI(
                api_key=api_key or (_KEYLESS if base_url else None),
                base_url=base_url,
                max_retries=max_retries,
                timeout=timeout,
                http_client=openai.DefaultHttpxClient(**sdk_transport(outbound, sync=True))
                if outbound
                else None,
            )
        except openai.OpenAIError as exc:
            raise ProviderError(
                "No OpenAI API key: set one on the knowledge base or in OPENAI_API_KEY."
            ) from exc
        # The client's URL, not the argument: OPENAI_BASE_URL may have chosen the server.
        self._model_id = remote_model_id(
            "openai", self.model, str(self._client.base_url), DEFAULT_HOST
        )

    def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        try:
            # "float" explicitly: the SDK would ask for base64, which compatible servers
            # do not all speak. The raw body, parsed here: the SDK's parser visits every
            # number of every vector in Python, half of a call's time on a local server.
            response = self._client.embeddings.with_raw_response.create(
                model=self.model, input=batch, encoding_format="float"
            )
        except openai.APIStatusError as exc:
            raise self._refused(exc) from None
        except openai.APIConnectionError as exc:
            if refused := refused_in(exc):
                raise ProviderError(f"OpenAI embeddings: {refused}.") from None
            server = server_of(str(self._client.base_url))
            what = "timed out" if isinstance(exc, openai.APITimeoutError) else "is unreachable"
            raise ProviderError(f"The OpenAI embeddings server {server} {what}.") from None
        vectors = _vectors(response.http_response.content)
        if vectors is None:
            raise ProviderError("The OpenAI embeddings server returned no list of embeddings.")
        if len(vectors) != len(batch):
            raise ProviderError(
                f"The OpenAI embeddings server returned {len(vectors)} vectors for {len(batch)} texts."
            )
        return vectors

    def _refused(self, exc: openai.APIStatusError) -> ProviderError:
        # `from None` above and a fixed text here: the SDK's error (and the request in its
        # context) must not carry the key into a log.
        status = exc.status_code
        if status in (401, 403):
            message = "The OpenAI API key was refused."
        elif status == 404:
            message = f"The embedding model {self.model!r} does not exist on this server."
        elif status == 429:
            message = "OpenAI is rate limiting or the quota is used up; try again later."
        else:
            message = f"OpenAI embeddings failed: {status_words(status)}."
        log.warning("%s (the server said: %s)", message, scrubbed(str(exc.message), self._api_key))
        return ProviderError(message, status)


def _vectors(body: bytes) -> list[list[float]] | None:
    """The `data[].embedding` lists of an embeddings response, in `index` order, as floats
    (a server may write `0` for `0.0`); None when the body is not such a response."""
    try:
        items: list[dict[str, Any]] = json.loads(body)["data"]
        ordered = sorted(items, key=lambda item: item["index"])
        embeddings = [item["embedding"] for item in ordered]
        if not all(isinstance(e, list) for e in embeddings):
            return None
        return [list(map(float, e)) for e in embeddings]
    except (ValueError, KeyError, TypeError):
        return None
