"""Rate limits with the `limits` library: in memory for one process, in Redis when
`REDIS_URL` is set, so that several processes count together."""

from __future__ import annotations

import math
import time

from limits import parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter


def rate_limit_storage(storage_url: str | None = None) -> Storage:
    """Where the counts live: one storage may serve many limiters."""
    return storage_from_string(storage_url or "memory://")


class LimitsRateLimiter:
    """`rule`: one or more of the library's rules, `;`-separated (`"60/minute;1000/day"`);
    empty: no limit."""

    def __init__(
        self,
        rule: str,
        storage_url: str | None = None,
        namespace: str = "genai",
        storage: Storage | None = None,
    ) -> None:
        self.items = parse_many(rule) if rule.strip() else []
        self.limiter = MovingWindowRateLimiter(storage or rate_limit_storage(storage_url))
        self.namespace = namespace

    def hit(self, *keys: str) -> int | None:
        refused = [
            (item, key)
            for item in self.items
            for key in keys
            if not self.limiter.hit(item, self.namespace, key)
        ]
        if not refused:
            return None
        waits = [
            self.limiter.get_window_stats(item, self.namespace, key).reset_time - time.time()
            for item, key in refused
        ]
        return max(1, math.ceil(max(waits)))
