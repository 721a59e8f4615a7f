"""The server side of the rate limit: a sliding window per API key, with ``X-RateLimit-*`` headers."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """Whether a request may go on, and the headers that describe the window."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # unix time at which the oldest request leaves the window
    retry_after: float

    def headers(self) -> dict[str, str]:
        """``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (unix seconds, rounded up)."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }


class SlidingWindow:
    """``limit`` requests per ``window`` seconds per key."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self.rejected = 0
        self.max_in_window = 0
        #: Set to a list to record when each counted request arrived (``time.monotonic``; benchmarks).
        self.history: list[float] | None = None

    def check(self, key: str) -> Verdict:
        """Count one request for ``key`` if the window has room."""
        now = time.monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        allowed = len(hits) < self.limit
        if allowed:
            hits.append(now)
            if self.history is not None:
                self.history.append(now)
            self.max_in_window = max(self.max_in_window, len(hits))
        else:
            self.rejected += 1
        oldest = hits[0] if hits else now
        wait = max(0.0, oldest + self.window - now)
        return Verdict(
            allowed, self.limit, max(0, self.limit - len(hits)), time.time() + wait, wait if not allowed else 0.0
        )
