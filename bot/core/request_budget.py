"""The API key's budget: the fair scheduler over a sliding window of ``limit`` requests per ``window`` seconds.

One per API key, shared by every conversation in the process (:func:`shared_budget`). The composition root
hands it to the API client, which only knows it as a ``bot.api.gate.RequestGate``: the client takes a slot
before each request, settles it when the response arrives, and feeds the server's ``X-RateLimit-*`` headers
(:meth:`RequestBudget.observe`) and 429s (``penalize``) back. A slot counts from its grant until its response
arrived plus ``window``, because the server stamps the request somewhere in between — so the server's
window never sees more than ``limit`` even when requests are slow.

Several instances of the bot on one key (one PostgreSQL database) also share the key's window: the composition
root sets :attr:`RequestBudget.shared` (a ``bot.api.shared_window.SharedWindow``), and every slot this budget
grants is then booked there too (:class:`bot.core.shared_scheduler.SharedScheduler`), so all the processes
together stay within the key's limit.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import weakref
from collections.abc import Callable, Mapping

from bot.core.limits import SlidingWindow, Slot
from bot.core.shared_scheduler import SharedScheduler

log = logging.getLogger(__name__)


class RequestBudget(SharedScheduler):
    """A fair, sliding-window request budget (one per API key)."""

    def __init__(
        self,
        limit: int = 60,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        margin: float = 0.02,
        keep_history: bool = False,
    ) -> None:
        self.window_limit = SlidingWindow(limit, window, in_flight=True)
        super().__init__(
            self.window_limit, booking_window=window, clock=clock, margin=margin, keep_history=keep_history
        )
        #: Which key this is the budget of (a fingerprint, never the key).
        self.name = ""

    @property
    def limit(self) -> int:
        """Requests per window (lowered when the server says it allows fewer)."""
        return self.window_limit.limit

    @property
    def window(self) -> float:
        """The window in seconds."""
        return self.window_limit.window

    def available(self) -> int:
        """Requests that could be sent right now."""
        return self.window_limit.available(self._clock())

    def observe(self, headers: Mapping[str, str]) -> None:
        """Keep in step with the server's ``X-RateLimit-Limit/Remaining/Reset`` headers.

        A lower server limit is adopted; if the server counts more requests than we granted (another process
        uses the same key), the difference is booked as units that expire at the server's reset time — unless
        the key's window is shared (and reachable): it books the other processes' requests already, when each
        one ends, where the headers' count would be booked a second time, until a reset rounded up to whole
        seconds, and hold this process back from slots the others no longer use.
        """
        lower = {k.lower(): v for k, v in headers.items()}
        try:
            limit = int(lower["x-ratelimit-limit"]) if "x-ratelimit-limit" in lower else None
            remaining = int(lower["x-ratelimit-remaining"]) if "x-ratelimit-remaining" in lower else None
            reset = float(lower["x-ratelimit-reset"]) if "x-ratelimit-reset" in lower else None
        except ValueError:
            return
        if limit is not None and 0 < limit < self.window_limit.limit:
            log.info("rate limit lowered to the server's %d per window", limit)
            self.window_limit.limit = limit
        if remaining is None or (self._booker is not None and self._booker.reachable):
            return
        now = self._clock()
        server_used = (limit or self.limit) - remaining
        missing = server_used - self.window_limit.active(now)
        if missing > 0:
            until = now + self.window
            if reset is not None:  # unix time, or seconds from now
                seconds = reset - time.time() if reset > 1_000_000_000 else reset
                until = now + min(max(seconds, 0.0), self.window)
            self.window_limit.charge(now, missing, until)


def reuse_delays(slots: list[Slot], limit: int, window: float) -> list[float]:
    """For each slot after the first ``limit``: how long after the sliding-window rule allowed it was it granted.

    The rule (see the module docstring) lets request *j* go once fewer than ``limit`` earlier requests count,
    i.e. at the ``limit``-th latest ``settled_at + window`` among the earlier slots, and not before the caller
    asked (``requested_at``). The delay is measured from there to ``granted_at``; a budget that wastes no
    capacity has delays near zero whatever the machine's speed, because the time requests spend in flight
    (slow on a loaded machine) is part of the rule, not of the delay.
    """
    ordered = sorted(slots, key=lambda s: s.granted_at)
    delays: list[float] = []
    for index in range(limit, len(ordered)):
        freed = sorted(s.settled_at + window for s in ordered[:index] if s.settled_at is not None)
        allowed = freed[-limit] if len(freed) >= limit else -math.inf
        slot = ordered[index]
        ready = max(allowed, slot.requested_at if slot.requested_at is not None else -math.inf)
        delays.append(max(0.0, slot.granted_at - ready))
    return delays


_budgets: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, RequestBudget]] = weakref.WeakKeyDictionary()


def shared_budget(key_id: str, limit: int = 60, window: float = 60.0) -> RequestBudget:
    """The process-wide budget of one API key (named by a fingerprint, never the key) in the running loop."""
    per_loop = _budgets.setdefault(asyncio.get_running_loop(), {})
    budget = per_loop.get(key_id)
    if budget is None:
        budget = per_loop[key_id] = RequestBudget(limit, window)
        budget.name = key_id
    return budget
