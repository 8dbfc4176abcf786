"""The OpenAI-compatible API: `POST /v1/chat/completions`, `GET /v1/models` and
`GET /v1/models/{model}`, so that every OpenAI client library (and what is built on one) can
call a published stack. The use cases are `application.chat.completions`, the wire format
`interfaces.openai_wire`; here: who calls, how often, and the answer, whole or streamed as
server-sent events.

Who calls: `Authorization: Bearer <API token>` with the chat scope. On a server bound to
loopback that signs its owner in automatically, no key, or a key that is no credential of
ours (the SDKs insist on one: `api_key="local"`), is the local owner, as in GraphQL.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from application.chat.completions import (
    Answered,
    Asked,
    Complete,
    Delta,
    Failed,
    ModelNotPublished,
    TurnEvent,
)
from application.errors import Forbidden, RateLimited, Unauthenticated
from domain.errors import DomainError, NotFound
from domain.policy import Principal
from interfaces.bootstrap import Services
from interfaces.openai_wire import (
    BadRequest,
    completion_object,
    completion_request,
    error_body,
    head,
    model_object,
    sources_of,
    sse,
    usage_of,
)
from interfaces.principal import bearer

log = logging.getLogger(__name__)


# a failed answer's code → HTTP status, OpenAI error type and code
_FAILED: dict[str, tuple[int, str, str]] = {
    "PROVIDER_ERROR": (502, "server_error", "provider_error"),
    "INVALID_WORKFLOW": (500, "server_error", "invalid_workflow"),
}


class TooLarge(Exception):
    pass


def openai_router(services_of: Callable[[Request], Services], max_body: int) -> APIRouter:
    """`max_body`: the largest request body read, in bytes."""
    router = APIRouter(prefix="/v1", include_in_schema=False)

    @router.get("/models")
    async def list_models(request: Request) -> JSONResponse:
        services = services_of(request)
        try:
            principal = await _principal(request, services)
            models = await anyio.to_thread.run_sync(services.completions.models, principal)
        except Exception as error:
            return refusal(error)
        return JSONResponse({"object": "list", "data": [model_object(m) for m in models]})

    @router.get("/models/{model}")
    async def retrieve_model(request: Request, model: str) -> JSONResponse:
        services = services_of(request)
        try:
            principal = await _principal(request, services)
            found = await anyio.to_thread.run_sync(services.completions.model, principal, model)
        except Exception as error:
            return refusal(error)
        return JSONResponse(model_object(found))

    @router.post("/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
        services = services_of(request)
        try:
            principal = await _principal(request, services)
            asked = completion_request(await _body(request, max_body))
            client = request.client.host if request.client else None
            await anyio.to_thread.run_sync(services.limits.question, principal, client)
            turn = services.completions.ask(
                Complete(principal=principal, model=asked.model, messages=asked.messages)
            )
            try:
                first = await anext(turn)  # the question is stored, or refused
            except BaseException:
                await turn.aclose()
                raise
        except Exception as error:
            return refusal(error)
        assert isinstance(first, Asked)
        if asked.stream:
            return StreamingResponse(
                _events(turn, first, asked.include_usage),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        return await _completion(turn, first)

    @router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def elsewhere(path: str) -> JSONResponse:
        """Not the web app's page: an OpenAI client asking for what a stack does not offer
        (embeddings, files, …) gets an answer it reads."""
        return _error(
            404,
            f"Unknown request URL: /v1/{path}. This server offers POST /v1/chat/completions "
            "and GET /v1/models.",
            "invalid_request_error",
            "unknown_url",
        )

    return router


# ---------------------------------------------------------------- the request


async def _principal(request: Request, services: Services) -> Principal:
    credential = bearer(request.headers.get("authorization"))
    principals = services.accounts.principals
    if credential is None:
        principal = principals.resolve(None)
    else:
        principal = await anyio.to_thread.run_sync(principals.resolve_api_key, credential)
    if principal is None:
        raise Unauthenticated(
            "Incorrect API key provided." if credential else "You didn't provide an API key."
        )
    return principal


async def _body(request: Request, limit: int) -> Any:
    # JSON only: a page of another site can post a form or text without asking, not JSON
    if "application/json" not in request.headers.get("content-type", ""):
        raise BadRequest("the request body must be JSON (Content-Type: application/json)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the request is larger than {limit // (1024 * 1024)} MB")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks), parse_constant=_no_constant)
    except RecursionError:
        raise BadRequest("the request body is JSON nested too deep") from None
    except ValueError as error:
        raise BadRequest(f"the request body is not JSON: {error}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# ---------------------------------------------------------------- the answer


async def _completion(turn: AsyncGenerator[TurnEvent, None], asked: Asked) -> JSONResponse:
    async with aclosing(turn):
        async for event in turn:
            if isinstance(event, Answered):
                return JSONResponse(completion_object(asked, event.message))
            if isinstance(event, Failed):
                return failed(event)
    return failed(Failed("INTERNAL", "the answer was lost"))


async def _events(
    turn: AsyncGenerator[TurnEvent, None], asked: Asked, include_usage: bool
) -> AsyncIterator[bytes]:
    """The answer as OpenAI streams one: a chunk with the role, one per delta, one with the
    finish reason (and here the sources), with `include_usage` a last one with the usage,
    then `[DONE]`. A failure is an `error` event, as OpenAI sends mid-stream."""
    usage_field = {"usage": None} if include_usage else {}

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return sse(
            {**head(asked, "chat.completion.chunk"), "choices": [choice], **usage_field, **extra}
        )

    async with aclosing(turn):
        yield chunk({"role": "assistant", "content": ""}, session_id=str(asked.session.id))
        streamed: list[str] = []
        async for event in turn:
            if isinstance(event, Delta):
                streamed.append(event.text)
                yield chunk({"content": event.text})
            elif isinstance(event, Answered):
                answer = event.message
                # what the stored answer holds past what was streamed (a delta lost on the
                # way): the client ends with the stored text
                sent = "".join(streamed)
                if answer.content.startswith(sent) and len(answer.content) > len(sent):
                    yield chunk({"content": answer.content[len(sent) :]})
                yield chunk({}, "stop", session_id=str(asked.session.id), **sources_of(answer))
                if include_usage:
                    yield sse(
                        {
                            **head(asked, "chat.completion.chunk"),
                            "choices": [],
                            "usage": usage_of(answer),
                        }
                    )
                yield b"data: [DONE]\n\n"
                return
            else:
                assert isinstance(event, Failed)
                status, kind, code = _FAILED.get(
                    event.code, (500, "server_error", "internal_error")
                )
                yield sse(error_body(event.message, kind, code))
                return
        yield sse(error_body("the answer was lost", "server_error", "internal_error"))


# ---------------------------------------------------------------- errors


def _error(
    status: int,
    message: str,
    kind: str,
    code: str | None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(message, kind, code, param), status, headers=headers)


def failed(event: Failed) -> JSONResponse:
    """A turn whose answer failed (it is stored so): retrying it would only ask again."""
    status, kind, code = _FAILED.get(event.code, (500, "server_error", "internal_error"))
    return _error(status, event.message, kind, code, headers={"x-should-retry": "false"})


def refusal(error: Exception) -> JSONResponse:
    """A request refused before its question was stored, in OpenAI's words."""
    if isinstance(error, Unauthenticated):
        return _error(401, str(error), "invalid_request_error", "invalid_api_key")
    if isinstance(error, Forbidden):
        return _error(403, str(error), "invalid_request_error", "insufficient_permissions")
    if isinstance(error, ModelNotPublished):
        return _error(404, str(error), "invalid_request_error", "model_not_published", "model")
    if isinstance(error, NotFound):
        return _error(404, str(error), "invalid_request_error", "model_not_found", "model")
    if isinstance(error, RateLimited):
        wait = str(error.retry_after)
        message = f"Rate limit reached for questions: try again in {wait} seconds."
        return _error(
            429, message, "requests", "rate_limit_exceeded", headers={"Retry-After": wait}
        )
    if isinstance(error, TooLarge):
        return _error(413, str(error), "invalid_request_error", "request_too_large")
    if isinstance(error, BadRequest):
        return _error(400, str(error), "invalid_request_error", error.code, error.param)
    if isinstance(error, DomainError):  # the domain's refusal of what was asked
        return _error(400, str(error), "invalid_request_error", "invalid_value", "messages")
    log.exception("a chat completion failed unexpectedly", exc_info=error)
    return _error(500, "The server had an error; it logged the details.", "server_error", None)
