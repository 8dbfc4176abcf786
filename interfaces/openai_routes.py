"""The OpenAI-compatible API: `POST /v1/chat/completions`, `GET /v1/models` and
`GET /v1/models/{model}`, so that every OpenAI client library (and what is built on one) can
call a published stack. The use cases are `application.chat.completions`; this module only
speaks OpenAI's wire format: its request, its `chat.completion` and `chat.completion.chunk`
objects (server-sent events when streamed), and its error body,
`{"error": {"message", "type", "param", "code"}}`.

Who calls: `Authorization: Bearer <API token>` with the chat scope. On a server bound to
loopback that signs its owner in automatically, no key, or a key that is no credential of
ours (the SDKs insist on one: `api_key="local"`), is the local owner, as in GraphQL.

What the stack adds to OpenAI's objects, which OpenAI clients ignore: `sources` and
`web_sources` (on the message; on the streamed chunk that ends the answer) and `session_id`,
the chat session that holds the turn. The request's sampling settings (temperature,
max_tokens, …) are ignored: the stack's LLM node has its own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import asdict, dataclass
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
    Message,
    ModelNotPublished,
    StackModel,
    TurnEvent,
)
from application.chat.views import ChatMessageView
from application.errors import Forbidden, RateLimited, Unauthenticated
from application.validation import check_text
from domain.chat import MAX_CONVERSATION
from domain.errors import DomainError, NotFound
from domain.policy import Principal
from interfaces.bootstrap import Services
from interfaces.principal import bearer

log = logging.getLogger(__name__)

OWNER = "genai-stack"
TOOL_FIELDS = ("tools", "tool_choice", "functions", "function_call")

# a failed answer's code → HTTP status, OpenAI error type and code
_FAILED: dict[str, tuple[int, str, str]] = {
    "PROVIDER_ERROR": (502, "server_error", "provider_error"),
    "INVALID_WORKFLOW": (500, "server_error", "invalid_workflow"),
}


class BadRequest(DomainError):
    """A request that is not a chat completion request; `param` names the part at fault."""

    def __init__(self, message: str, param: str | None = None, code: str = "invalid_value"):
        super().__init__(message)
        self.param, self.code = param, code


class TooLarge(Exception):
    pass


@dataclass(frozen=True)
class CompletionRequest:
    model: str
    messages: tuple[Message, ...]
    stream: bool = False
    include_usage: bool = False


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


def completion_request(body: Any) -> CompletionRequest:
    """The parts of an OpenAI chat completion request a stack reads."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    model = body.get("model")
    if model is None:
        raise BadRequest(
            "you must provide a model parameter", "model", "missing_required_parameter"
        )
    if not isinstance(model, str) or not model.strip():
        raise BadRequest("model must be the name of a stack", "model", "invalid_type")
    check_text(model, "model", 1000)
    for name in TOOL_FIELDS:
        if body.get(name):
            raise BadRequest(f"{name}: a stack answers from its own graph and calls no tools", name)
    if body.get("n") not in (None, 1):
        raise BadRequest("n: a stack gives one answer", "n")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise BadRequest("stream must be true or false", "stream", "invalid_type")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise BadRequest("stream_options must be an object", "stream_options", "invalid_type")
    include_usage = bool((options or {}).get("include_usage"))
    return CompletionRequest(
        model.strip(), _messages(body.get("messages")), bool(stream), include_usage
    )


def _messages(raw: Any) -> tuple[Message, ...]:
    if raw is None:
        raise BadRequest(
            "you must provide a messages parameter", "messages", "missing_required_parameter"
        )
    if not isinstance(raw, list):
        raise BadRequest("messages must be a list of messages", "messages", "invalid_type")
    messages = []
    for i, item in enumerate(raw):
        where = f"messages[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("role"), str):
            raise BadRequest(f"{where} must be an object with a role", where, "invalid_type")
        if item.get("tool_calls") or item.get("function_call"):
            raise BadRequest(f"{where}: a stack calls no tools", f"{where}.tool_calls")
        text = _text(item.get("content"), f"{where}.content", item["role"])
        check_text(text, f"{where}.content", MAX_CONVERSATION)
        messages.append(Message(item["role"], text))
    return tuple(messages)


def _text(content: Any, where: str, role: str) -> str:
    """A message's text: a string, or text parts (one after another)."""
    if isinstance(content, str):
        return content
    if content is None and role == "assistant":
        return ""
    if isinstance(content, list):
        texts = []
        for j, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") != "text":
                raise BadRequest(f"{where}[{j}]: a stack reads text parts only", f"{where}[{j}]")
            if not isinstance(part.get("text"), str):
                raise BadRequest(f"{where}[{j}].text must be text", f"{where}[{j}].text")
            texts.append(part["text"])
        return "\n".join(texts)
    raise BadRequest(f"{where} must be text or a list of text parts", where, "invalid_type")


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
        return _sse(
            {**_head(asked, "chat.completion.chunk"), "choices": [choice], **usage_field, **extra}
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
                yield chunk({}, "stop", session_id=str(asked.session.id), **_sources(answer))
                if include_usage:
                    yield _sse(
                        {
                            **_head(asked, "chat.completion.chunk"),
                            "choices": [],
                            "usage": _usage(answer),
                        }
                    )
                yield b"data: [DONE]\n\n"
                return
            else:
                assert isinstance(event, Failed)
                status, kind, code = _FAILED.get(
                    event.code, (500, "server_error", "internal_error")
                )
                yield _sse(_error_body(event.message, kind, code))
                return
        yield _sse(_error_body("the answer was lost", "server_error", "internal_error"))


def _sse(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n"


def _head(asked: Asked, kind: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{asked.answer_id.hex}",
        "object": kind,
        "created": int(asked.question.created_at.timestamp()),
        "model": asked.model.answering_name,
        "system_fingerprint": None,
    }


def completion_object(asked: Asked, answer: ChatMessageView) -> dict[str, Any]:
    message = {
        "role": "assistant",
        "content": answer.content,
        "refusal": None,
        "annotations": [],
        **_sources(answer),
    }
    return {
        **_head(asked, "chat.completion"),
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
        "usage": _usage(answer),
        "session_id": str(asked.session.id),
    }


def _sources(answer: ChatMessageView) -> dict[str, Any]:
    return {
        "sources": [asdict(p) for p in answer.sources],
        "web_sources": [asdict(r) for r in answer.web_sources],
    }


def _usage(answer: ChatMessageView) -> dict[str, int]:
    prompt = answer.usage.prompt_tokens if answer.usage else 0
    completion = answer.usage.completion_tokens if answer.usage else 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def model_object(model: StackModel) -> dict[str, Any]:
    return {
        "id": model.name if model.pinned is None else model.answering_name,
        "object": "model",
        "created": int(model.created_at.timestamp()),
        "owned_by": model.workspace or OWNER,
        # ours, which OpenAI clients ignore
        "name": model.stack_name,
        "stack_id": str(model.workflow_id),
        "published_versions": list(model.published),
    }


# ---------------------------------------------------------------- errors


def _error_body(
    message: str, kind: str, code: str | None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _error(
    status: int,
    message: str,
    kind: str,
    code: str | None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(_error_body(message, kind, code, param), status, headers=headers)


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
