"""OpenTelemetry traces, exported over OTLP when configured.

With `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, the server
installs the SDK's tracer provider with a batching OTLP exporter: HTTP/protobuf by default,
gRPC with `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`. The exporter reads the other standard variables
itself (`OTEL_EXPORTER_OTLP_HEADERS`, `…_TIMEOUT`, `…_COMPRESSION`); `OTEL_SERVICE_NAME` and
`OTEL_RESOURCE_ATTRIBUTES` name the process; `OTEL_SDK_DISABLED=true` turns it all off.
Unconfigured, nothing is installed: the application's spans are the API's no-ops.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

SERVICE = "genai-stack"


def exporter_wanted(env: Mapping[str, str]) -> bool:
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return bool(
        env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def otlp_exporter(env: Mapping[str, str]) -> SpanExporter:
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    if protocol.strip().lower() == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcExporter,
        )

        return GrpcExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def configure_tracing(env: Mapping[str, str] | None = None) -> TracerProvider | None:
    """Installs the tracer provider when an OTLP endpoint is configured; returns it (its
    `shutdown` flushes the spans still batched; it also runs at exit)."""
    env = os.environ if env is None else env
    if not exporter_wanted(env):
        return None
    provider = TracerProvider(
        resource=Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or SERVICE})
    )
    provider.add_span_processor(BatchSpanProcessor(otlp_exporter(env)))
    trace.set_tracer_provider(provider)
    return provider
