"""Request ids and the server span of each HTTP request and WebSocket connection.

A request keeps the `X-Request-ID` it came with when that is a short token (a proxy's or a
client's id, up to 128 characters of letters, digits and `._:-`), else it is given one; the id
goes back in the response's `X-Request-ID` and is bound in structlog's contextvars for the
request's time, so every log line of the request carries it (infrastructure/logging.py), and
the answer a chat message starts carries it too (application/chat/answering.py keeps the
context of the request that asked).

The request's span continues the caller's trace when it sends a W3C `traceparent`. Without a
tracer provider (OTLP not configured) the span is the OpenTelemetry API's no-op.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import structlog
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from application import telemetry

HEADER = "x-request-id"
VALID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def request_id_of(given: str | None) -> str:
    """The client's id when it is a safe token, else a new one."""
    if given is not None and VALID.fullmatch(given):
        return given
    return uuid.uuid4().hex


class RequestIds:
    """ASGI middleware (HTTP and WebSocket): the request id, its log context, its span.
    `route`: the bounded name of a path (the span's name, like the metrics' label)."""

    def __init__(self, app: ASGIApp, route: Callable[[str], str]) -> None:
        self.app, self.route = app, route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = request_id_of(headers.get(HEADER))
        scope.setdefault("state", {})["request_id"] = request_id
        method = scope.get("method", "WS") if scope["type"] == "http" else "WS"
        route = self.route(scope["path"])
        status: dict[str, int] = {}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [
                    *(
                        (k, v)
                        for k, v in message.get("headers", [])
                        if k.lower() != HEADER.encode()
                    ),
                    (HEADER.encode(), request_id.encode()),
                ]
            await send(message)

        with (
            structlog.contextvars.bound_contextvars(request_id=request_id),
            telemetry.tracer.start_as_current_span(
                f"{method} {route}",
                context=propagate.extract(headers),
                kind=SpanKind.SERVER,
                record_exception=False,
            ) as span,
        ):
            if span.is_recording():
                span.set_attribute("http.request.method", method)
                span.set_attribute("http.route", route)
                span.set_attribute(telemetry.REQUEST_ID, request_id)
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                if span.is_recording() and "code" in status:
                    span.set_attribute("http.response.status_code", status["code"])
                    if status["code"] >= 500:
                        span.set_status(StatusCode.ERROR)
