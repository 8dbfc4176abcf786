"""How often a principal may ask: questions (and chats started) are counted per user or API
token (the local owner of a loopback server is not counted), and a publishable token's (an
embedded chat's, which anyone can read in the page) by its own stricter rules: per visitor
(client address) and per token, so one visitor cannot use up a site's chat and the whole
site cannot run up its owner's bill.

`limits` counts in memory, or in Redis with `REDIS_URL` (processes count together)."""

from __future__ import annotations

from application.errors import RateLimited
from domain.policy import Principal
from infrastructure.ratelimit import LimitsRateLimiter
from infrastructure.settings import Settings


class RequestLimits:
    def __init__(self, settings: Settings) -> None:
        storage, namespace = settings.redis_url, settings.genai_rate_limit_namespace
        self.questions = LimitsRateLimiter(
            settings.genai_question_limit, storage, f"{namespace}-questions"
        )
        self.embed_visitors = LimitsRateLimiter(
            settings.genai_embed_question_limit, storage, f"{namespace}-embed-visitors"
        )
        self.embed_tokens = LimitsRateLimiter(
            settings.genai_embed_token_limit, storage, f"{namespace}-embed-tokens"
        )

    def question(self, principal: Principal | None, client_host: str | None) -> None:
        """Counts a question (or a chat started) of `principal` from `client_host`; raises
        RateLimited, with the seconds to wait, past a limit."""
        if principal is None or principal.local:
            return  # nobody: refused by the field's authorization; the machine's owner: free
        if principal.publishable:
            token = principal.actor
            wait = self.embed_visitors.hit(f"{token}|{client_host or 'unknown'}")
            wait = wait or self.embed_tokens.hit(token)
        else:
            wait = self.questions.hit(principal.actor)
        if wait is not None:
            raise RateLimited(wait)
