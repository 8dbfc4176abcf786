"""OpenAI's wire format for chat completions: the request as a stack reads it, the
`chat.completion`, `chat.completion.chunk` and `model` objects it answers with, and the
error body `{"error": {"message", "type", "param", "code"}}`.

What a stack adds, which OpenAI clients ignore: `sources` and `web_sources` (on the message;
on the streamed chunk that ends the answer) and `session_id`, the chat session of the turn;
on a model, its stack's `name`, `stack_id` and `published_versions`. What a stack ignores:
the request's sampling settings (temperature, max_tokens, …), as its LLM node has its own.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from application.chat.completions import Asked, Message, StackModel
from application.chat.views import ChatMessageView
from application.validation import check_text
from domain.chat import MAX_CONVERSATION
from domain.errors import DomainError

OWNER = "genai-stack"
TOOL_FIELDS = ("tools", "tool_choice", "functions", "function_call")


class BadRequest(DomainError):
    """A request that is not a chat completion request; `param` names the part at fault."""

    def __init__(self, message: str, param: str | None = None, code: str = "invalid_value"):
        super().__init__(message)
        self.param, self.code = param, code


@dataclass(frozen=True)
class CompletionRequest:
    model: str
    messages: tuple[Message, ...]
    stream: bool = False
    include_usage: bool = False


# ---------------------------------------------------------------- reading a request


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


# ---------------------------------------------------------------- writing the answer


def sse(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n"


def head(asked: Asked, kind: str) -> dict[str, Any]:
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
        **sources_of(answer),
    }
    return {
        **head(asked, "chat.completion"),
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
        "usage": usage_of(answer),
        "session_id": str(asked.session.id),
    }


def sources_of(answer: ChatMessageView) -> dict[str, Any]:
    return {
        "sources": [asdict(p) for p in answer.sources],
        "web_sources": [asdict(r) for r in answer.web_sources],
    }


def usage_of(answer: ChatMessageView) -> dict[str, int]:
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


def error_body(
    message: str, kind: str, code: str | None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
