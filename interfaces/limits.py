"""Limits of what one client may ask of the server: the one place every entrance counts its
requests, and the bound on WebSocket connections.

`RequestLimits` counts three kinds of request, each under its own rules, per user or API
token (the principal) and per client address (all the principals behind one address):

- `mutation(principal, client_host)`: a change (every GraphQL mutation but questions and
  uploads, counted by `interfaces/graphql/authorize.py`);
- `question(principal, client_host)`: a question put to a stack (`sendMessage`, and any other
  entrance that asks one, e.g. an OpenAI-compatible endpoint);
- `upload(principal, client_host)`: a file, counted before its body is read
  (`interfaces/app.py`).

Past a limit each raises `application.errors.RateLimited` (`retry_after` seconds): GraphQL
answers `RATE_LIMITED` with `extensions.retryAfter` (and a `Retry-After` header over HTTP);
a plain HTTP route answers 429 with `Retry-After` through `interfaces.auth_routes.error_response`.

The counts live in memory (one process) or in Redis when `REDIS_URL` is set, so several
processes count together. The local owner of a loopback server (signed in automatically, so
only this machine's users can be it) is not counted unless `GENAI_RATE_LIMIT_LOCAL_OWNER`:
a limit there would only slow down the person at the keyboard (and the test suites that
drive the app as them).
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum

from application.errors import RateLimited
from domain.policy import Principal
from infrastructure.ratelimit import LimitsRateLimiter, rate_limit_storage
from infrastructure.settings import Settings


class Kind(StrEnum):
    MUTATION = "mutation"
    QUESTION = "question"
    UPLOAD = "upload"


_WHAT = {
    Kind.MUTATION: "changes",
    Kind.QUESTION: "questions",
    Kind.UPLOAD: "uploads",
}


class RequestLimits:
    def __init__(
        self,
        rules: dict[Kind, tuple[str, str]],
        storage_url: str | None = None,
        namespace: str = "genai",
        *,
        limit_local_owner: bool = False,
        embed: tuple[str, str] = ("10/minute", "600/hour"),
    ) -> None:
        """`rules`: for each kind, the rule per principal and the rule per client address;
        `embed`: a publishable token's rules, per visitor (client address) and per token."""
        storage = rate_limit_storage(storage_url)
        per_visitor, per_token = embed
        self._embed = (
            LimitsRateLimiter(per_visitor, namespace=f"{namespace}:embed-visitor", storage=storage),
            LimitsRateLimiter(per_token, namespace=f"{namespace}:embed-token", storage=storage),
        )
        self._limiters = {
            kind: (
                LimitsRateLimiter(per_principal, namespace=f"{namespace}:{kind}", storage=storage),
                LimitsRateLimiter(per_address, namespace=f"{namespace}:{kind}", storage=storage),
            )
            for kind, (per_principal, per_address) in rules.items()
        }
        self.limit_local_owner = limit_local_owner
        self.shared = storage_url is not None  # counted in Redis, with a round trip

    @classmethod
    def from_settings(cls, settings: Settings) -> RequestLimits:
        s = settings
        return cls(
            {
                Kind.MUTATION: (s.genai_mutation_limit, s.genai_mutation_limit_per_address),
                Kind.QUESTION: (s.genai_question_limit, s.genai_question_limit_per_address),
                Kind.UPLOAD: (s.genai_upload_limit, s.genai_upload_limit_per_address),
            },
            s.redis_url,
            s.genai_rate_limit_namespace,
            limit_local_owner=s.genai_rate_limit_local_owner,
            embed=(s.genai_embed_question_limit, s.genai_embed_token_limit),
        )

    def mutation(self, principal: Principal | None, client_host: str | None) -> None:
        self.check(Kind.MUTATION, principal, client_host)

    def question(self, principal: Principal | None, client_host: str | None) -> None:
        self.check(Kind.QUESTION, principal, client_host)

    def upload(self, principal: Principal | None, client_host: str | None) -> None:
        self.check(Kind.UPLOAD, principal, client_host)

    def check(self, kind: Kind, principal: Principal | None, client_host: str | None) -> None:
        """Counts one request of `kind`; raises RateLimited when the principal or the address
        is past its limit. (Synchronous: with Redis it makes a round trip; the memory
        storage takes microseconds.)"""
        if principal is not None and principal.local and not self.limit_local_owner:
            return
        if principal is not None and principal.publishable:
            self._check_embedded(principal, client_host)
            return
        per_principal, per_address = self._limiters[kind]
        waits = [
            per_principal.hit(principal_key(principal)) if principal is not None else None,
            per_address.hit(f"address:{client_host or 'unknown'}"),
        ]
        wait = max((w for w in waits if w is not None), default=None)
        if wait is not None:
            raise RateLimited(wait, f"too many {_WHAT[kind]}: try again in {wait} seconds")

    def _check_embedded(self, principal: Principal, client_host: str | None) -> None:
        """A publishable token (an embedded chat's, readable in the page) may only start chats
        and ask: both count under its own rules, per visitor and per token, so one visitor
        cannot use up a site's chat and the whole site cannot run up its owner's bill."""
        per_visitor, per_token = self._embed
        token = principal_key(principal)
        wait = per_visitor.hit(f"{token}|{client_host or 'unknown'}") or per_token.hit(token)
        if wait is not None:
            raise RateLimited(wait, f"too many questions: try again in {wait} seconds")


def principal_key(principal: Principal) -> str:
    if principal.token_id is not None:
        return f"token:{principal.token_id}"
    return f"user:{principal.user_id}"


class TooManyConnections(Exception):
    """A principal (or an anonymous address) already holds as many WebSocket connections to
    this process as it may; the connection is closed with `CLOSE_CODE`."""


class ConnectionBounds:
    """Open WebSocket connections per principal (or, signed in as nobody, per client address),
    counted in this process: a connection lives in one process, and one that dies takes its
    count with it. Behind a load balancer the bound is per process."""

    CLOSE_CODE = 4429

    def __init__(self, per_principal: int) -> None:
        self.per_principal = per_principal
        self._open: Counter[str] = Counter()

    def enter(self, principal: Principal | None, client_host: str | None) -> str:
        """Counts a connection in; the key to `leave` with. Raises TooManyConnections."""
        key = principal_key(principal) if principal else f"address:{client_host or 'unknown'}"
        if principal is not None and principal.publishable:
            key = f"{key}|{client_host or 'unknown'}"  # an embedded chat's visitors are many
        if self._open[key] >= self.per_principal:
            raise TooManyConnections(
                f"too many connections: {self.per_principal} are open for you already; "
                "close one (another tab or program) and connect again"
            )
        self._open[key] += 1
        return key

    def leave(self, key: str) -> None:
        self._open[key] -= 1
        if self._open[key] <= 0:
            del self._open[key]

    def open_for(self, key: str) -> int:
        return self._open[key]
