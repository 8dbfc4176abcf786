"""Traces of the application's work, with the OpenTelemetry API.

The API package is a no-op until a tracer provider is installed (infrastructure/tracing.py
does so when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and tests install one with an in-memory
exporter): without one, a span costs a function call and allocates nothing that is kept.
The application imports only the API, as it imports eventsourcing or structlog; the SDK and
the exporter stay in infrastructure.

Attributes never hold keys, prompts, questions or answers: ids, versions, providers, models,
counts and sizes only.
"""

from __future__ import annotations

from opentelemetry import trace

tracer = trace.get_tracer("genai_stack")

# attribute names (OpenTelemetry's gen_ai.* semantic conventions where they exist)
STACK_ID = "genai.stack.id"
STACK_VERSION = "genai.stack.version"
SESSION_ID = "genai.chat.session_id"
PROVIDER = "gen_ai.system"
MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
FIRST_TOKEN_MS = "genai.first_token_ms"
REQUEST_ID = "genai.request_id"
