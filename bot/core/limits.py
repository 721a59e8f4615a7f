"""The rate limits a :class:`~bot.core.scheduler.FairScheduler` serves: pure bookkeeping, time passed in.

Two shapes cover every budget the bot keeps:

* :class:`SlidingWindow` — at most ``limit`` units in any ``window`` seconds. A unit can count from its
  grant until its request's answer arrived plus ``window`` (``in_flight=True``: the server stamps the request
  somewhere in between, so its window never sees more than ``limit`` however slow the request is), or from
  its grant plus ``window`` (``in_flight=False``: a plain spacing, e.g. one edit per second).
* :class:`TokenBucket` — ``rate`` units a second on average, at most ``burst`` at once after a quiet spell.

Both can be blocked for a while (the platform answered 429) and charged for units used outside the queue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol


@dataclass(eq=False)
class Slot:
    """One unit of a limit, granted to one request.

    ``expires_at`` is ``inf`` while the request is in flight (not yet settled); ``requested_at`` is when the
    caller asked, ``settled_at`` when the answer arrived (both on the scheduler's clock).
    """

    granted_at: float
    expires_at: float = math.inf
    requested_at: float | None = None
    settled_at: float | None = None


class Limit(Protocol):
    """A rate limit the scheduler can ask "may one more go now, and if not, when?"."""

    @property
    def rate(self) -> float:
        """Units per second in the long run."""

    def free(self, now: float) -> bool:
        """One more unit may go now."""

    def headroom(self, now: float) -> float:
        """The share of the capacity free now (0 … 1)."""

    def ready_in(self, now: float) -> float:
        """Seconds until one more unit may go (0: now; ``inf``: only a settling request frees one)."""

    def expected_wait(self, now: float, units: int) -> float:
        """Seconds until the ``units``-th next unit may go, if every unit is taken as soon as it frees."""

    def take(self, now: float, requested_at: float | None = None) -> Slot:
        """Count one unit granted now."""

    def settle(self, slot: Slot, now: float) -> None:
        """The request of ``slot`` was answered (or failed) at ``now``."""

    def release(self, slot: Slot) -> None:
        """The request of ``slot`` provably never went out: give its unit back."""

    def charge(self, now: float, units: int = 1, until: float | None = None) -> None:
        """Count ``units`` used outside the queue (until ``until`` where the limit keeps windows)."""

    def block(self, now: float, seconds: float) -> None:
        """Grant nothing for ``seconds`` (the platform answered 429)."""


class SlidingWindow:
    """At most ``limit`` units in any ``window`` seconds."""

    def __init__(self, limit: int, window: float, *, in_flight: bool = True) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self.in_flight = in_flight
        self.blocked_until = -math.inf
        self.slots: list[Slot] = []
        self._next_expiry = math.inf  # no slot expires before this (so counting needs no scan until then)

    @property
    def rate(self) -> float:
        """Units per second in the long run."""
        return self.limit / self.window

    def active(self, now: float) -> int:
        """Units that count now."""
        if now >= self._next_expiry:
            self.slots = [s for s in self.slots if s.expires_at > now]
            self._next_expiry = min((s.expires_at for s in self.slots), default=math.inf)
        return len(self.slots)

    def _expires(self, at: float) -> None:
        self._next_expiry = min(self._next_expiry, at)

    def available(self, now: float) -> int:
        """Units that may go now."""
        return 0 if now < self.blocked_until else max(0, self.limit - self.active(now))

    def free(self, now: float) -> bool:
        """One more unit may go now."""
        return self.available(now) > 0

    def headroom(self, now: float) -> float:
        """The share of the window free now."""
        return self.available(now) / self.limit

    def ready_in(self, now: float) -> float:
        """Seconds until a unit frees (``inf`` while every unit is in flight)."""
        at = now
        if self.active(now) >= self.limit:
            finite = sorted(s.expires_at for s in self.slots if s.expires_at != math.inf)
            excess = len(self.slots) - self.limit  # the excess-th expiry frees the first unit
            if len(finite) <= excess:
                return math.inf
            at = finite[excess]
        return max(at, self.blocked_until) - now

    def expected_wait(self, now: float, units: int) -> float:
        """When the ``units``-th next unit frees: a unit in flight is counted as if it settled now."""
        blocked = max(0.0, self.blocked_until - now)
        free = self.limit - self.active(now)
        if units <= free:
            return blocked
        expiries = sorted(s.expires_at if s.expires_at != math.inf else now + self.window for s in self.slots)
        if not expiries:
            return blocked
        cycles, index = divmod(units - max(free, 0) - 1, len(expiries))
        return max(blocked, expiries[index] + cycles * self.window - now)

    def take(self, now: float, requested_at: float | None = None) -> Slot:
        """Count one unit granted now (until it settles, or for ``window`` without ``in_flight``)."""
        slot = Slot(now, math.inf if self.in_flight else now + self.window, requested_at)
        self.slots.append(slot)
        self._expires(slot.expires_at)
        return slot

    def settle(self, slot: Slot, now: float) -> None:
        """The answer arrived: the unit counts ``window`` from now (never longer than it already did)."""
        slot.settled_at = now if slot.settled_at is None else slot.settled_at
        slot.expires_at = min(slot.expires_at, now + self.window)
        self._expires(slot.expires_at)

    def release(self, slot: Slot) -> None:
        """Give the unit back."""
        if slot in self.slots:
            self.slots.remove(slot)

    def charge(self, now: float, units: int = 1, until: float | None = None) -> None:
        """Count ``units`` used elsewhere, until ``until`` (default: a window from now)."""
        at = now + self.window if until is None else until
        for _ in range(units):
            self.slots.append(Slot(now, at))
        self._expires(at)

    def block(self, now: float, seconds: float) -> None:
        """Grant nothing for ``seconds``."""
        self.blocked_until = max(self.blocked_until, now + max(seconds, 0.0))


class TokenBucket:
    """``rate`` units a second, at most ``burst`` at once."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self._rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = now
        self.blocked_until = 0.0

    @property
    def rate(self) -> float:
        """Units per second."""
        return self._rate

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self._rate)
            self.updated = now

    def free(self, now: float) -> bool:
        """A token is there and no 429 holds."""
        self._refill(now)
        return now >= self.blocked_until and self.tokens >= 1.0

    def headroom(self, now: float) -> float:
        """Tokens left as a share of the burst."""
        self._refill(now)
        return max(0.0, self.tokens) / self.burst

    def ready_in(self, now: float) -> float:
        """Seconds until a token is there and no 429 holds."""
        self._refill(now)
        return max(self.blocked_until - now, (1.0 - self.tokens) / self._rate, 0.0)

    def expected_wait(self, now: float, units: int) -> float:
        """Seconds until the ``units``-th next token."""
        self._refill(now)
        return max(self.blocked_until - now, (units - self.tokens) / self._rate, 0.0)

    def take(self, now: float, requested_at: float | None = None) -> Slot:
        """Spend a token."""
        self._refill(now)
        self.tokens -= 1.0
        return Slot(now, now, requested_at)

    def settle(self, slot: Slot, now: float) -> None:
        """Nothing to do: a token is spent when taken."""
        slot.settled_at = now if slot.settled_at is None else slot.settled_at

    def release(self, slot: Slot) -> None:
        """Give the token back."""
        self.tokens = min(self.burst, self.tokens + 1.0)

    def charge(self, now: float, units: int = 1, until: float | None = None) -> None:
        """Spend ``units`` tokens used elsewhere (the bucket may go below zero)."""
        self._refill(now)
        self.tokens -= units

    def block(self, now: float, seconds: float) -> None:
        """No tokens for ``seconds``; they refill from ``now`` as before."""
        self.blocked_until = max(self.blocked_until, now + seconds)
        self.tokens = 0.0
        self.updated = now
