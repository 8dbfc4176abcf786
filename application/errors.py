"""The one table from a refusal to the contract's error code (`extensions.code` of a GraphQL
error, `code` of a failed answer). Anything not in it is unexpected: INTERNAL."""

from __future__ import annotations

from application.ports import BlobTooLarge, ProviderError, UnsupportedMediaType
from domain.errors import Conflict, DomainError, InvalidCommand, InvalidWorkflow, NotFound

INTERNAL = "INTERNAL"


class Unauthenticated(Exception):
    """No valid credentials: sign in (or refresh the session) first."""


class Forbidden(Exception):
    """What this client may not do: signed in, but the role or the token's scopes do not
    allow it (or a tool kept for this machine's users)."""


class RateLimited(Exception):
    """Too many attempts; `retry_after` seconds until the next one is allowed."""

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message or f"too many attempts: try again in {retry_after} seconds")
        self.retry_after = retry_after


CODES: tuple[tuple[type[BaseException], str], ...] = (
    (NotFound, "NOT_FOUND"),
    (Conflict, "CONFLICT"),
    (InvalidWorkflow, "INVALID_WORKFLOW"),
    (InvalidCommand, "BAD_USER_INPUT"),
    (DomainError, "BAD_USER_INPUT"),
    (BlobTooLarge, "PAYLOAD_TOO_LARGE"),
    (Unauthenticated, "UNAUTHENTICATED"),
    (Forbidden, "FORBIDDEN"),
    (RateLimited, "RATE_LIMITED"),
    (UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"),
    (ProviderError, "PROVIDER_ERROR"),
)


def code_of(error: BaseException) -> str:
    """The contract's code for what refused a command, INTERNAL for anything unexpected."""
    return next((code for cls, code in CODES if isinstance(error, cls)), INTERNAL)
