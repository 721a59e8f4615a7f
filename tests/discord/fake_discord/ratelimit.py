"""Discord-style rate limits for the fake: per-route buckets keyed by their major parameter, a global
limit, and 429s forced by a test.

Buckets are fixed windows like Discord's: the first request opens a window of ``per`` seconds with
``limit`` requests; every response carries ``X-RateLimit-Limit/Remaining/Reset/Reset-After/Bucket``; a
request over the limit gets a 429 with ``{"message", "retry_after", "global"}`` and a ``Via`` header
(discord.py treats a 429 without ``Via`` as a Cloudflare ban and does not retry).
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field


@dataclass
class Window:
    """One bucket's current window."""

    limit: int
    per: float
    remaining: int
    resets_at: float  # monotonic


@dataclass
class ForcedLimit:
    """A 429 a test asked for: the next ``count`` requests matching method + path regex get it."""

    method: str
    path: re.Pattern[str]
    count: int
    retry_after: float
    global_: bool


@dataclass
class Verdict:
    """What the limiter decided for one request: headers to add, and a 429 body when refused."""

    headers: dict[str, str] = field(default_factory=dict)
    refused: dict[str, object] | None = None


class RateLimiter:
    """Counts requests per (bucket, major parameter) and globally; forced 429s come first."""

    def __init__(
        self,
        *,
        message_limit: tuple[int, float],
        default_limit: tuple[int, float],
        global_limit: int | None,
    ) -> None:
        self.message_limit = message_limit
        self.default_limit = default_limit
        self.global_limit = global_limit
        self._windows: dict[tuple[str, str], Window] = {}
        self._global_count = 0
        self._global_resets_at = 0.0
        self.forced: list[ForcedLimit] = []
        self.refusals = 0

    def force(self, method: str, path_regex: str, *, count: int, retry_after: float, global_: bool) -> None:
        """Answer the next ``count`` matching requests with 429 (``re.search`` on the path after /api/v10)."""
        self.forced.append(ForcedLimit(method.upper(), re.compile(path_regex), count, retry_after, global_))

    def check(self, method: str, path: str, template: str, major: str, *, exempt_global: bool) -> Verdict:
        """Decide one request: ``template`` is the spec path template, ``major`` its major parameter."""
        verdict = Verdict()
        now = time.monotonic()
        for forced in self.forced:
            if forced.count > 0 and forced.method == method.upper() and forced.path.search(path):
                forced.count -= 1
                self.refusals += 1
                return self._refuse(verdict, forced.retry_after, forced.global_, bucket=_bucket_hash(template))

        if self.global_limit is not None and not exempt_global:
            if now >= self._global_resets_at:
                self._global_resets_at = now + 1.0
                self._global_count = 0
            self._global_count += 1
            if self._global_count > self.global_limit:
                self.refusals += 1
                return self._refuse(verdict, self._global_resets_at - now, True, bucket=None)

        limit, per = self.limit_for(method, template)
        bucket = _bucket_hash(f"{method.upper()} {template}" if not _is_message_write(method, template) else "msg")
        key = (bucket, major)
        window = self._windows.get(key)
        if window is None or now >= window.resets_at:
            window = Window(limit=limit, per=per, remaining=limit, resets_at=now + per)
            self._windows[key] = window
        reset_after = max(window.resets_at - now, 0.0)
        if window.remaining <= 0:
            self.refusals += 1
            verdict = self._refuse(verdict, reset_after, False, bucket=bucket)
            verdict.headers.update(_window_headers(window, reset_after, bucket))
            return verdict
        window.remaining -= 1
        verdict.headers.update(_window_headers(window, reset_after, bucket))
        return verdict

    def limit_for(self, method: str, template: str) -> tuple[int, float]:
        """The (limit, per seconds) of a route: message sends and edits share one per-channel limit."""
        return self.message_limit if _is_message_write(method, template) else self.default_limit

    @staticmethod
    def _refuse(verdict: Verdict, retry_after: float, global_: bool, *, bucket: str | None) -> Verdict:
        retry_after = round(max(retry_after, 0.001), 3)
        verdict.refused = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": global_,
            "code": 0,
        }
        verdict.headers.update(
            {
                "Retry-After": str(max(1, int(retry_after + 0.999))),
                "Via": "1.1 google",
                "X-RateLimit-Scope": "global" if global_ else "user",
            }
        )
        if global_:
            verdict.headers["X-RateLimit-Global"] = "true"
        if bucket is not None:
            verdict.headers.setdefault("X-RateLimit-Bucket", bucket)
        return verdict


def _is_message_write(method: str, template: str) -> bool:
    return (method.upper(), template) in _MESSAGE_WRITES


_MESSAGE_WRITES = {
    ("POST", "/channels/{channel_id}/messages"),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}"),
}


def _bucket_hash(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()[:16]


def _window_headers(window: Window, reset_after: float, bucket: str) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(window.limit),
        "X-RateLimit-Remaining": str(max(window.remaining, 0)),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket,
    }
