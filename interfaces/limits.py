"""How often a request may cost the server real work, counted with the `limits` library (in
memory, or in Redis with REDIS_URL so that every process counts together). Past a limit the
request is refused with RateLimited (`RATE_LIMITED`; 429 and Retry-After over HTTP).

Questions are counted per principal (every token, user and the local owner apart), whatever
the way they come in (GraphQL's sendMessage, the OpenAI-compatible endpoint).
"""

from __future__ import annotations

from application.errors import RateLimited
from domain.policy import Principal
from infrastructure.ratelimit import LimitsRateLimiter
from infrastructure.settings import Settings


class RequestLimits:
    def __init__(self, questions: LimitsRateLimiter) -> None:
        self.questions = questions

    @classmethod
    def of(cls, settings: Settings) -> RequestLimits:
        return cls(
            LimitsRateLimiter(
                settings.genai_question_limit,
                settings.redis_url,
                f"{settings.genai_rate_limit_namespace}:questions",
            )
        )

    def question(self, principal: Principal | None, client_host: str | None) -> None:
        """Counts a question; raises RateLimited past the limit. Nobody (a request that is
        refused anyway) is counted by its client address."""
        who = principal.actor if principal is not None else f"client:{client_host or 'unknown'}"
        wait = self.questions.hit(f"question:{who}")
        if wait is not None:
            raise RateLimited(wait)
