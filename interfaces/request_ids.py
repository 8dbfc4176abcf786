"""Request ids and the server span of each HTTP request and WebSocket connection.

A request keeps the `X-Request-ID` it came with when that is a short token (a proxy's or a
client's id, up to 128 characters of letters, digits and `._:-`), else it is given one; the id
goes back in the response's `X-Request-ID` and is bound in structlog's contextvars for the
request's time, so every log line of the request carries it (infrastructure/logging.py), and
the answer a chat message starts carries it too (application/chat/answering.py keeps the
context of the request that asked).

The request's span is FastAPI's (its native OpenTelemetry support: a server span per request
and WebSocket connection, continuing the caller's W3C `traceparent`, when a tracer provider is
installed); the request id is set on it.
"""

from __future__ import annotations

import re
import uuid

import structlog
from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from application import telemetry

HEADER = "x-request-id"
HEADER_BYTES = HEADER.encode()
VALID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def request_id_of(given: str | None) -> str:
    """The client's id when it is a safe token, else a new one."""
    if given is not None and VALID.fullmatch(given):
        return given
    return uuid.uuid4().hex


class RequestIds:
    """ASGI middleware (HTTP and WebSocket): the request id, in the response, the log
    context and the request's span."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == HEADER_BYTES), None)
        request_id = request_id_of(given.decode("latin-1") if given is not None else None)
        scope.setdefault("state", {})["request_id"] = request_id
        # the request's span is FastAPI's own (its native OpenTelemetry support, outside
        # every middleware): the id goes on it
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute(telemetry.REQUEST_ID, request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *((k, v) for k, v in message.get("headers", []) if k.lower() != HEADER_BYTES),
                    (HEADER_BYTES, request_id.encode()),
                ]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, send_with_id)
