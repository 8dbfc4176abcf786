"""Embeddings from Google Gemini through google-genai (`models.embed_content`)."""

from __future__ import annotations

import logging

import httpx2
from google import genai
from google.genai import errors, types

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

# text-embedding-004 was retired in January 2026; gemini-embedding-001 replaced it.
DEFAULT_MODEL = "gemini-embedding-001"
DEFAULT_HOST = "generativelanguage.googleapis.com"
# batchEmbedContents takes at most 100 requests per call.
MAX_BATCH = 100


class GeminiEmbedder(BatchingEmbedder):
    """Sync client: embedders run in worker threads. google-genai retries only when
    asked, so `attempts` is passed explicitly (backoff on 408, 429 and 5xx). Every failure
    is a ProviderError whose message never contains the key."""

    def __init__(
        self,
        api_key: str | None,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        *,
        batch_size: int = MAX_BATCH,
        attempts: int = 4,
        timeout: float = 60.0,
        api_version: str = "v1beta",
        outbound: OutboundRules | None = None,
    ) -> None:
        if not 0 < batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1..{MAX_BATCH}")
        if not api_key:
            raise ProviderError("No Gemini API key: set one on the knowledge base.")
        self.model = (model or DEFAULT_MODEL).removeprefix("models/")
        self.batch_size = batch_size
        self._api_key = api_key
        self._server = server_of(base_url) or DEFAULT_HOST
        self._client = genai.Client(
            api_key=api_key,
            http_options=types.HttpOptions(
                base_url=base_url,
                api_version=api_version,
                timeout=int(timeout * 1000),  # milliseconds
                retry_options=types.HttpRetryOptions(attempts=attempts),
                client_args=sdk_transport(outbound, sync=True) or None,
            ),
        )
        self._model_id = remote_model_id("gemini", self.model, base_url, DEFAULT_HOST)

    def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        try:
            # one Content per text: one embedding each (a list of bare strings would too)
            contents = [types.Content(parts=[types.Part(text=text)]) for text in batch]
            response = self._client.models.embed_content(model=self.model, contents=contents)
        except errors.APIError as exc:
            raise self._refused(exc) from None
        except (httpx2.TransportError, OSError) as exc:  # google-genai 3 sends through httpx2
            if refused := refused_in(exc):
                raise ProviderError(f"Gemini embeddings: {refused}.") from None
            raise ProviderError(
                f"The Gemini embeddings server {self._server} is unreachable or timed out."
            ) from None
        embeddings = response.embeddings or []
        if len(embeddings) != len(batch) or any(e.values is None for e in embeddings):
            raise ProviderError(
                f"Gemini returned {len(embeddings)} embeddings for {len(batch)} texts."
            )
        return [list(e.values or ()) for e in embeddings]

    def _refused(self, exc: errors.APIError) -> ProviderError:
        status = exc.code
        if (
            status in (401, 403)
            or exc.status == "PERMISSION_DENIED"
            or status == 400
            and "API key" in str(exc.message)
        ):
            message = "The Gemini API key was refused."
        elif status == 404:
            message = f"The embedding model {self.model!r} does not exist on this server."
        elif status == 429:
            message = "Gemini is rate limiting or the quota is used up; try again later."
        else:
            message = f"Gemini embeddings failed: {status_words(status)}."
        log.warning("%s (the server said: %s)", message, scrubbed(str(exc.message), self._api_key))
        return ProviderError(message, status)
