"""The one place where exceptions become the contract's error codes (`extensions.code`)."""

from __future__ import annotations

from typing import Any

import strawberry
import structlog
from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

from application.account.errors import Forbidden, RateLimited, Unauthenticated
from application.ports import BlobTooLarge, ProviderError, UnsupportedMediaType
from domain.errors import Conflict, InvalidCommand, InvalidWorkflow, NotFound

log = structlog.get_logger(__name__)


class PayloadTooLarge(Exception):
    """A request body past the configured limit."""


CODES: tuple[tuple[type[BaseException], str], ...] = (
    (NotFound, "NOT_FOUND"),
    (Conflict, "CONFLICT"),
    (InvalidWorkflow, "INVALID_WORKFLOW"),
    (InvalidCommand, "BAD_USER_INPUT"),
    (BlobTooLarge, "PAYLOAD_TOO_LARGE"),
    (PayloadTooLarge, "PAYLOAD_TOO_LARGE"),
    (UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"),
    (ProviderError, "PROVIDER_ERROR"),
    (Unauthenticated, "UNAUTHENTICATED"),
    (Forbidden, "FORBIDDEN"),
    (RateLimited, "RATE_LIMITED"),
)


def code_of(error: GraphQLError) -> str:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return "BAD_USER_INPUT"  # parse, validation and argument errors
    for cls, code in CODES:
        if isinstance(original, cls):
            return code
    if error.path is None:  # raised while coercing variables, before execution
        return "BAD_USER_INPUT"
    return "INTERNAL"


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
            if code == "INTERNAL":
                log.error("unexpected error", path=error.path, exc_info=error.original_error)
            processed.append(
                GraphQLError(
                    message=self.error_message if code == "INTERNAL" else error.message,
                    nodes=error.nodes,
                    source=error.source,
                    positions=error.positions,
                    path=error.path,
                    original_error=None if code == "INTERNAL" else error.original_error,
                    extensions=extensions_of(error, code),
                )
            )
        return processed


class Schema(strawberry.Schema):
    """Logs a refused request as what it is: an expected outcome (CONFLICT, INVALID_WORKFLOW,
    BAD_USER_INPUT…) is one line without a traceback; an unexpected error is logged, with
    its traceback, once, by ErrorCodes."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            code = code_of(error)
            if code != "INTERNAL":
                log.info("request refused", code=code, reason=error.message, path=error.path)
