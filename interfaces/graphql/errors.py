"""Where a GraphQL error gets its `extensions.code` (from the one table of codes,
application.errors), its details, and its log line."""

from __future__ import annotations

from typing import Any

import strawberry
import structlog
from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

from application.errors import INTERNAL, RateLimited
from application.errors import code_of as refusal_code
from domain.errors import Conflict, InvalidWorkflow

log = structlog.get_logger(__name__)


def code_of(error: GraphQLError) -> str:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return "BAD_USER_INPUT"  # parse, validation and argument errors
    code = refusal_code(original)
    if code == INTERNAL and error.path is None:  # raised coercing variables, before execution
        return "BAD_USER_INPUT"
    return code


def extensions_of(error: GraphQLError, code: str) -> dict[str, Any]:
    extensions: dict[str, Any] = {**(error.extensions or {}), "code": code}
    original = error.original_error
    if isinstance(original, InvalidWorkflow):
        extensions["issues"] = [
            {"code": i.code, "message": i.message, "nodeId": i.node_id, "edgeId": i.edge_id}
            for i in original.issues
        ]
    if isinstance(original, Conflict):
        extensions["currentVersion"] = original.actual
    if isinstance(original, RateLimited):
        extensions["retryAfter"] = original.retry_after
    return extensions


class ErrorCodes(MaskErrors):
    """Adds `extensions.code` to every error; hides the text of unexpected ones."""

    def __init__(self) -> None:
        super().__init__(error_message="Internal error: the server logged the details.")

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = []
        for error in errors:
            code = code_of(error)
            if code == INTERNAL:
                log.error("unexpected error", path=error.path, exc_info=error.original_error)
            processed.append(
                GraphQLError(
                    message=self.error_message if code == INTERNAL else _text(error.message),
                    nodes=error.nodes,
                    source=error.source,
                    positions=error.positions,
                    path=error.path,
                    original_error=None if code == INTERNAL else error.original_error,
                    extensions=extensions_of(error, code),
                )
            )
        return processed


def _text(message: str) -> str:
    """A message that quotes a client's value quotes it as text that can be sent: a lone
    surrogate (which no UTF-8 response can hold) is written as its escape."""
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


class Schema(strawberry.Schema):
    """Logs a refused request as what it is: an expected outcome (CONFLICT, INVALID_WORKFLOW,
    BAD_USER_INPUT…) is one line without a traceback; an unexpected error is logged, with
    its traceback, once, by ErrorCodes."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            code = code_of(error)
            if code != INTERNAL:
                log.info("request refused", code=code, reason=error.message, path=error.path)
