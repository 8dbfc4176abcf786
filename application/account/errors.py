"""How access is refused; the GraphQL and HTTP edges map each to its contract code once."""

from __future__ import annotations


class Unauthenticated(Exception):
    """No valid credentials: sign in (or refresh the session) first."""


class Forbidden(Exception):
    """Signed in, but the role or the token's scopes do not allow this."""


class RateLimited(Exception):
    """Too many attempts; `retry_after` seconds until the next one is allowed."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many attempts: try again in {retry_after} seconds")
        self.retry_after = retry_after
