"""Per-method, per-workspace rate tiers (sliding window) and forced 429s, as Slack's Web API applies them.

Default tiers (calls per minute, per workspace, per method): Tier 1 = 1, Tier 2 = 20, Tier 3 = 50, Tier 4 = 100.
`chat.postMessage` is "special" in Slack (about 1 per second per channel, bursts allowed): modelled here as
60 per minute per channel, and so is `assistant.threads.setStatus` (special limits, per DM like postMessage);
`apps.connections.open` (Tier 1) allows 10 per minute.
The streaming methods' tiers are an assumption (startStream/stopStream Tier 2, appendStream Tier 4).
Tighten or loosen any of them with `RateLimiter.set_limit`.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
METHOD_TIERS = {
    "auth.test": 4,
    "conversations.open": 3,
    "conversations.info": 3,
    "conversations.replies": 3,
    "conversations.history": 3,
    "chat.update": 3,
    "chat.delete": 3,
    "chat.postEphemeral": 4,
    "chat.startStream": 2,
    "chat.appendStream": 4,
    "chat.stopStream": 2,
    "assistant.threads.setTitle": 3,
    "assistant.threads.setSuggestedPrompts": 3,
    "views.publish": 4,
    "views.open": 4,
    "views.update": 4,
    "views.push": 4,
    "users.info": 4,
    "team.info": 3,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "usergroups.users.list": 2,
    "users.lookupByEmail": 3,
    "conversations.members": 4,
    "users.list": 2,
}
PER_CHANNEL = {"chat.postMessage": 60, "assistant.threads.setStatus": 60}
# Tier 1 says "1+ per minute"; Slack tolerates bursts of reconnects, so Socket Mode gets 10 per minute here.
SPECIAL = {"apps.connections.open": 10}


@dataclass
class _Limit:
    calls: int
    window: float
    hits: dict[str, deque[float]] = field(default_factory=dict)  # bucket key -> call times


@dataclass
class RateStats:
    """What happened to one method: accepted calls, 429s, and the most calls seen in any one window."""

    accepted: int = 0
    limited: int = 0
    peak: int = 0


class RateLimiter:
    """Sliding-window budgets keyed by (workspace, method[, channel]); plus a queue of forced 429s."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._limits: dict[str, _Limit] = {}
        for method, tier in METHOD_TIERS.items():
            self._limits[method] = _Limit(TIER_PER_MINUTE[tier], 60.0)
        for method, per_minute in {**PER_CHANNEL, **SPECIAL}.items():
            self._limits[method] = _Limit(per_minute, 60.0)
        self._forced: dict[str, list[int]] = {}  # method -> Retry-After values still to answer
        self.stats: dict[str, RateStats] = {}

    def set_limit(self, method: str, calls: int, window: float = 60.0) -> None:
        """Allow `calls` calls of `method` per `window` seconds per workspace (per channel for postMessage)."""
        self._limits[method] = _Limit(calls, window)

    def force_429(self, method: str, count: int, retry_after: int) -> None:
        """The next `count` calls of `method` answer 429 with `Retry-After: retry_after` (any method: "*")."""
        self._forced.setdefault(method, []).extend([retry_after] * count)

    def check(self, method: str, team_id: str, channel: str | None) -> int | None:
        """Record a call; the Retry-After seconds if it must be refused, else None."""
        stats = self.stats.setdefault(method, RateStats())
        for key in (method, "*"):
            forced = self._forced.get(key)
            if forced:
                stats.limited += 1
                return forced.pop(0)
        limit = self._limits.get(method)
        if not self.enabled or limit is None:
            stats.accepted += 1
            return None
        bucket = f"{team_id}:{channel}" if method in PER_CHANNEL else team_id
        now = time.monotonic()
        hits = limit.hits.setdefault(bucket, deque())
        while hits and hits[0] <= now - limit.window:
            hits.popleft()
        if len(hits) >= limit.calls:
            stats.limited += 1
            return max(1, math.ceil(hits[0] + limit.window - now))
        hits.append(now)
        stats.accepted += 1
        stats.peak = max(stats.peak, len(hits))
        return None
