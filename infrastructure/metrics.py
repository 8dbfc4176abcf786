"""Prometheus metrics of the application's work (the `Meter` port) and of the followers'
lag, served at /metrics with the HTTP metrics of interfaces/app.py.

Labels stay bounded: providers and outcome codes are closed sets; models are what stacks
are configured with, cut to `MAX_MODELS` distinct names per process (then "other"). No stack,
session or user id is ever a label (one series per stack would grow without end).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from application.ports import Usage
from infrastructure.prices import ModelPrice, cost_of

log = logging.getLogger(__name__)

MAX_MODELS = 50
MAX_LABEL = 80

TURNS = Counter(
    "genai_chat_turns_total",
    "Chat turns answered in this process, by outcome (answered, or the failure's code)",
    ["outcome"],
)
FIRST_TOKEN = Histogram(
    "genai_llm_time_to_first_token_seconds",
    "From the LLM call to its first text delta",
    ["provider"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0),
)
TOKENS = Counter(
    "genai_llm_tokens_total", "Tokens the LLMs reported, by kind", ["provider", "model", "kind"]
)
COST = Counter(
    "genai_llm_cost_usd_total",
    "Estimated cost of the LLM calls from the price table (models without a price add 0)",
    ["provider", "model"],
)
PROVIDER_ERRORS = Counter(
    "genai_provider_errors_total",
    "LLM calls that failed, by the provider's HTTP status or the error's code",
    ["provider", "code"],
)
PAGES = Counter("genai_ingestion_pages_total", "Pages extracted from ingested documents")
CHUNKS = Counter("genai_ingestion_chunks_total", "Chunks embedded and indexed")
DOCUMENTS = Counter(
    "genai_ingestion_documents_total", "Documents ingested, by outcome", ["outcome"]
)


def _bounded(value: str) -> str:
    return value[:MAX_LABEL] or "unknown"


class PrometheusMeter:
    """The `Meter` port on prometheus-client; costs come from the price table."""

    def __init__(self, prices: Mapping[str, ModelPrice]) -> None:
        self.prices = prices
        self._models: set[str] = set()
        self._lock = threading.Lock()

    def _model(self, model: str) -> str:
        name = _bounded(model)
        with self._lock:
            if name in self._models:
                return name
            if len(self._models) < MAX_MODELS:
                self._models.add(name)
                return name
        return "other"

    def first_token(self, provider: str, seconds: float) -> None:
        FIRST_TOKEN.labels(_bounded(provider)).observe(seconds)

    def generated(self, provider: str, model: str, usage: Usage) -> None:
        provider, label = _bounded(provider), self._model(model)
        TOKENS.labels(provider, label, "input").inc(usage.prompt_tokens)
        TOKENS.labels(provider, label, "output").inc(usage.completion_tokens)
        cost = cost_of(self.prices, model, usage)
        COST.labels(provider, label).inc(cost or 0.0)

    def provider_error(self, provider: str, code: str) -> None:
        PROVIDER_ERRORS.labels(_bounded(provider), _bounded(code)).inc()

    def turn(self, outcome: str) -> None:
        TURNS.labels(_bounded(outcome)).inc()

    def ingested(self, pages: int, chunks: int, outcome: str) -> None:
        PAGES.inc(pages)
        CHUNKS.inc(chunks)
        DOCUMENTS.labels(_bounded(outcome)).inc()


class FollowerCollector(Collector):
    """At each scrape: how far each projection is behind the log (the log's last
    notification id minus the projection's tracked position, in events), and how many
    documents the ingestion worker holds (indexing or waiting their turn). The followers are
    those of the last application bootstrapped in this process."""

    def __init__(self) -> None:
        self._source: Callable[[], tuple[Sequence[Any], int | None]] | None = None

    def watch(self, workers: Sequence[Any], queue: Callable[[], int] | None) -> None:
        """`workers`: ProjectionWorkers (projection.name, position(), store)."""

        def source() -> tuple[Sequence[Any], int | None]:
            return workers, None if queue is None else queue()

        self._source = source

    def collect(self) -> Iterable[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "genai_projection_lag_events",
            "Events in the log that the projection has not processed yet",
            labels=["projection"],
        )
        depth = GaugeMetricFamily(
            "genai_ingestion_queue_depth",
            "Ingestion jobs waiting or running: the task queue's with PostgreSQL, else those the "
            "ingestion worker of this process holds",
        )
        if self._source is not None:
            try:
                workers, queued = self._source()
                if workers:
                    last = workers[0].store.max_notification_id() or 0
                    for worker in workers:
                        behind = max(last - worker.position, 0)
                        lag.add_metric([worker.projection.name], behind)
                if queued is not None:
                    depth.add_metric([], queued)
            except Exception:  # a database away: the scrape still answers the rest
                log.warning("the followers' lag could not be read", exc_info=True)
        yield lag
        yield depth


FOLLOWERS = FollowerCollector()
REGISTRY.register(FOLLOWERS)
