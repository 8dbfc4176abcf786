"""Rate limits with the `limits` library: in memory for one process, in Redis when
`REDIS_URL` is set, so that several processes count together."""

from __future__ import annotations

import math
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


class LimitsRateLimiter:
    def __init__(self, rule: str, storage_url: str | None = None, namespace: str = "genai") -> None:
        self.item = parse(rule)  # e.g. "10/minute"
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_url or "memory://"))
        self.namespace = namespace

    def hit(self, *keys: str) -> int | None:
        refused = [key for key in keys if not self.limiter.hit(self.item, self.namespace, key)]
        if not refused:
            return None
        waits = [
            self.limiter.get_window_stats(self.item, self.namespace, key).reset_time - time.time()
            for key in refused
        ]
        return max(1, math.ceil(max(waits)))
