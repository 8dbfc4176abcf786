"""What keeps telemetry bounded and safe: request ids are short safe tokens whatever the
client sends, metric labels stay few whatever models stacks name, and nothing is exported
unless an OTLP endpoint is configured."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from application.ports import Usage
from infrastructure.metrics import MAX_MODELS, PrometheusMeter
from infrastructure.prices import DEFAULT_PRICES
from infrastructure.tracing import configure_tracing, exporter_wanted
from interfaces.request_ids import VALID, request_id_of


@given(st.one_of(st.none(), st.text(max_size=300)))
def test_a_request_id_is_the_clients_when_safe_else_a_fresh_one(given_id: str | None) -> None:
    made = request_id_of(given_id)
    assert VALID.fullmatch(made) and len(made) <= 128
    if given_id is not None and VALID.fullmatch(given_id):
        assert made == given_id
    else:
        assert made != given_id and len(made) == 32


def test_model_labels_stop_growing_past_the_bound() -> None:
    meter = PrometheusMeter(DEFAULT_PRICES)
    provider = "bound-test-" + uuid.uuid4().hex[:6]  # this test's own series
    for n in range(MAX_MODELS + 20):
        meter.generated(provider, f"model-{n}-" + "x" * 200, Usage(1, 2))
    models = {
        sample.labels["model"]
        for family in REGISTRY.collect()
        if family.name == "genai_llm_tokens"
        for sample in family.samples
        if sample.labels.get("provider") == provider
    }
    assert len(models) == MAX_MODELS + 1 and "other" in models
    assert max(len(m) for m in models) <= 80


def test_nothing_is_exported_unless_an_endpoint_is_configured() -> None:
    assert configure_tracing({}) is None
    assert not exporter_wanted({"OTEL_SERVICE_NAME": "x"})
    assert not exporter_wanted(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}
    )
    assert exporter_wanted({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"})
