"""One shared, fair budget for the message edits of every streamed reply.

Two limits hold at once:

* per channel, at most one edit every ``interval`` seconds (Discord allows about 5 writes per 5 s in a DM);
* across all channels, at most ``global_rate`` writes per second (Discord's global limit is 50 req/s and
  must also cover sends, typing and interaction answers, so the default leaves room).

Waiting channels are served round-robin: a channel that was just served goes to the back of the line, so
one busy conversation never starves the others (the failure of a single global throttle). Each channel has
at most one waiter: a reply stream always edits with its newest text, so edits coalesce while waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class BudgetStats:
    """Counters for benches and logs."""

    granted: int = 0
    waited: float = 0.0


class EditBudget:
    """A fair scheduler of writes: ``await budget.acquire(channel)`` before each edit of a message there."""

    def __init__(
        self,
        interval: float = 1.0,
        global_rate: float = 40.0,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``interval``: seconds between edits in one channel; ``global_rate``: writes/s over all channels."""
        if interval < 0 or global_rate <= 0:
            raise ValueError("interval must be ≥ 0 and global_rate > 0")
        self.interval = interval
        self.global_rate = global_rate
        self.burst = burst if burst is not None else max(1.0, global_rate / 5)
        self._clock = clock
        self._tokens = self.burst
        self._refilled_at = clock()
        self._next_at: dict[str, float] = {}
        self._waiters: OrderedDict[str, asyncio.Future[None]] = OrderedDict()
        self._urgent: deque[tuple[str, asyncio.Future[None]]] = deque()
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self.stats = BudgetStats()
        #: told how long each edit waited for its turn (metrics)
        self.on_wait: Callable[[float], None] | None = None

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._refilled_at) * self.global_rate)
        self._refilled_at = now

    def note_write(self, channel: str | None = None) -> None:
        """Count a write made outside :meth:`acquire` (typing) globally, and against ``channel``'s interval."""
        now = self._clock()
        if channel is not None:
            self._next_at[channel] = max(self._next_at.get(channel, 0.0), now + self.interval)
        self._refill(now)
        self._tokens -= 1

    def waiting(self) -> int:
        """How many channels wait for an edit."""
        return len(self._waiters)

    async def acquire_urgent(self, channel: str) -> None:
        """Wait only for the global budget (a new message that must appear at once, e.g. a placeholder).

        Urgent writes go before edits, do not wait for the channel's interval, and restart it.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._urgent.append((channel, future))
        self._ensure_running()
        await future

    def _ensure_running(self) -> None:
        self._wake.set()
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._serve(), name="discord-edit-budget")

    async def acquire(self, channel: str) -> None:
        """Wait for this channel's turn to edit. Cancelling the wait gives the turn up."""
        started = self._clock()
        existing = self._waiters.get(channel)
        while existing is not None and not existing.done():
            # a second waiter for one channel shares the first's turn (callers coalesce anyway)
            try:
                await asyncio.shield(existing)
                return
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if not existing.cancelled() or (current is not None and current.cancelling()):
                    raise
            existing = self._waiters.get(channel)  # the first gave its turn up: wait for one of our own
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters[channel] = future
        self._ensure_running()
        try:
            await future
        except asyncio.CancelledError:
            if self._waiters.get(channel) is future:
                del self._waiters[channel]
            raise
        waited = self._clock() - started
        self.stats.waited += waited
        if self.on_wait is not None:
            self.on_wait(waited)

    async def _serve(self) -> None:
        while self._waiters or self._urgent:
            now = self._clock()
            self._refill(now)
            delay = self._grant_one(now)
            if delay is None:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(delay, 0.001))

    def _grant_one(self, now: float) -> float | None:
        """Grant the first eligible waiter (returns None), or return how long to sleep."""
        while self._urgent:
            channel, future = self._urgent[0]
            if future.done():
                self._urgent.popleft()
                continue
            if self._tokens < 1:
                return (1 - self._tokens) / self.global_rate
            self._urgent.popleft()
            self._tokens -= 1
            self._next_at[channel] = now + self.interval
            future.set_result(None)
            self.stats.granted += 1
            return None
        soonest = float("inf")
        for channel, future in list(self._waiters.items()):
            if future.done():  # cancelled
                del self._waiters[channel]
                continue
            ready_at = self._next_at.get(channel, 0.0)
            if ready_at > now:
                soonest = min(soonest, ready_at - now)
                continue
            if self._tokens < 1:
                return (1 - self._tokens) / self.global_rate
            self._tokens -= 1
            self._next_at[channel] = now + self.interval
            del self._waiters[channel]
            future.set_result(None)
            self.stats.granted += 1
            return None
        return soonest if soonest != float("inf") else 0.05

    def forget(self, channel: str) -> None:
        """Drop a channel's interval record (its conversation ended)."""
        self._next_at.pop(channel, None)
