"""One request budget per API key, shared by every conversation in the process.

A sliding window of ``limit`` requests per ``window`` seconds. Callers that find it full wait in a fair
queue: round-robin across callers, so a caller with ten waiting requests does not starve one with one.
A caller can learn its place and expected wait (``position``) and is told through ``on_queued``.

Each grant is a slot. A slot handed out by ``acquire`` counts for ``window`` seconds from the grant plus a
small margin. The client uses ``acquire_slot``/``settle`` instead: the slot counts from the grant until the
response arrived plus ``window``, because the server stamps the request somewhere in between — so the
server's window never sees more than ``limit`` even when requests are slow.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bot.api.models import QueuePosition
from bot.api.shared_window import Booker, SharedWindow

log = logging.getLogger(__name__)

QueueCallback = Callable[[QueuePosition], Awaitable[None]]


class BudgetListener(Protocol):
    """Told what the budget does (metrics): how long each granted request waited, and each 429."""

    def waited(self, seconds: float) -> None:
        """A request was granted ``seconds`` after it asked (0 when it did not queue)."""

    def rate_limited(self) -> None:
        """The server answered 429: the whole budget pauses."""


@dataclass(eq=False)
class Slot:
    """One granted request. ``expires_at`` is ``inf`` while the request is in flight (not yet settled).

    ``requested_at`` is when the caller asked for it, ``settled_at`` when its response arrived (budget clock).
    """

    granted_at: float
    expires_at: float = math.inf
    requested_at: float | None = None
    settled_at: float | None = None
    shared_token: object | None = None  # its booking in the shared window, if there is one


@dataclass(eq=False)
class _Waiter:
    caller: str
    requested_at: float
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    slot: Slot | None = None
    cancelled: bool = False


class RequestBudget:
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
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self.margin = margin
        self._clock = clock
        self._slots: list[Slot] = []
        self._queues: dict[str, deque[_Waiter]] = {}
        self._rotation: deque[str] = deque()
        self._blocked_until = -math.inf
        self._timer: asyncio.TimerHandle | None = None
        self._anonymous = itertools.count(1)
        #: Told of every grant's wait and every 429 (metrics); add with ``listeners.append``.
        self.listeners: list[BudgetListener] = []
        #: Counters for benchmarks and tests: requests granted, callers that had to wait.
        self.granted = 0
        self.queued = 0
        #: With ``keep_history``: every slot granted to a caller, in grant order (for tests and benchmarks).
        self.history: list[Slot] | None = [] if keep_history else None
        #: Which key this is the budget of (a fingerprint, never the key), and the window it shares with other
        #: processes on that key, if any (set by the composition root).
        self.name = ""
        self._booker: Booker | None = None
        self._shared_calls: set[asyncio.Task[None]] = set()

    # --- accounting -------------------------------------------------------------------------------------

    def _active(self, now: float) -> int:
        self._slots = [s for s in self._slots if s.expires_at > now]
        return len(self._slots)

    def available(self) -> int:
        """Requests that could be sent right now."""
        now = self._clock()
        return 0 if now < self._blocked_until else max(0, self.limit - self._active(now))

    def _grant(self, now: float, expires_at: float = math.inf, requested_at: float | None = None) -> Slot:
        slot = Slot(granted_at=now, expires_at=expires_at, requested_at=requested_at)
        self._slots.append(slot)
        self.granted += 1
        if self.history is not None and requested_at is not None:
            self.history.append(slot)
        if requested_at is not None:
            for listener in self.listeners:
                listener.waited(max(0.0, now - requested_at))
        return slot

    @property
    def shared(self) -> SharedWindow | None:
        """The window this key shares with other processes, if any."""
        return self._booker.shared if self._booker is not None else None

    @shared.setter
    def shared(self, window: SharedWindow | None) -> None:
        self._booker = Booker(window, self.window) if window is not None else None

    def settle(self, slot: Slot) -> None:
        """The response to ``slot``'s request arrived (or the request failed): it counts ``window`` from now."""
        now = self._clock()
        slot.settled_at = now if slot.settled_at is None else slot.settled_at
        slot.expires_at = min(slot.expires_at, now + self.window)
        if self.shared is not None and slot.shared_token is not None:
            self._tell_shared(self.shared.settle(slot.shared_token))
        self._pump()

    def release(self, slot: Slot) -> None:
        """The request provably never reached the server: give its slot back."""
        if slot in self._slots:
            self._slots.remove(slot)
        if self.shared is not None and slot.shared_token is not None:
            self._tell_shared(self.shared.release(slot.shared_token))
            slot.shared_token = None
        self._pump()

    def _tell_shared(self, call: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await call
            except Exception:  # the booking then lapses at its provisional end
                log.warning("the shared request window could not be updated", exc_info=True)

        task = asyncio.get_running_loop().create_task(run())
        self._shared_calls.add(task)
        task.add_done_callback(self._shared_calls.discard)

    # --- server feedback -----------------------------------------------------------------------------------

    def observe(self, headers: Mapping[str, str]) -> None:
        """Keep in step with the server's ``X-RateLimit-Limit/Remaining/Reset`` headers.

        A lower server limit is adopted; if the server counts more requests than we granted (another process
        uses the same key), the difference is booked as slots that expire at the server's reset time.
        """
        lower = {k.lower(): v for k, v in headers.items()}
        try:
            limit = int(lower["x-ratelimit-limit"]) if "x-ratelimit-limit" in lower else None
            remaining = int(lower["x-ratelimit-remaining"]) if "x-ratelimit-remaining" in lower else None
            reset = float(lower["x-ratelimit-reset"]) if "x-ratelimit-reset" in lower else None
        except ValueError:
            return
        if limit is not None and 0 < limit < self.limit:
            log.info("rate limit lowered to the server's %d per window", limit)
            self.limit = limit
        if remaining is None:
            return
        now = self._clock()
        server_used = (limit or self.limit) - remaining
        missing = server_used - self._active(now)
        if missing > 0:
            until = now + self.window
            if reset is not None:
                seconds = reset - time.time() if reset > 1_000_000_000 else reset
                until = now + min(max(seconds, 0.0), self.window)
            for _ in range(missing):
                self._grant(now, until)
            self.granted -= missing

    def penalize(self, retry_after: float) -> None:
        """After a 429: grant nothing for ``retry_after`` seconds."""
        for listener in self.listeners:
            listener.rate_limited()
        self._blocked_until = max(self._blocked_until, self._clock() + max(retry_after, 0.0))
        self._pump()

    # --- the queue -----------------------------------------------------------------------------------------

    async def acquire(self, caller: str | None = None, on_queued: QueueCallback | None = None) -> None:
        """Wait for a request slot (fairly); it counts ``window`` (+ margin) from the grant."""
        slot = await self.acquire_slot(caller, on_queued)
        slot.expires_at = slot.granted_at + self.window + self.margin
        self._pump()

    async def acquire_slot(self, caller: str | None = None, on_queued: QueueCallback | None = None) -> Slot:
        """Wait for a request slot; call ``settle`` when the response arrived (or ``release`` if never sent).

        With a shared window, the slot is also booked there: the wait then includes the other processes' use.
        """
        slot = await self._acquire_local(caller, on_queued)
        if self._booker is not None:
            try:
                slot.shared_token = await self._booker.book()
            except BaseException:
                self.release(slot)
                raise
        return slot

    async def _acquire_local(self, caller: str | None, on_queued: QueueCallback | None) -> Slot:
        name = caller if caller is not None else f"~anonymous-{next(self._anonymous)}"
        now = self._clock()
        if not self._rotation and now >= self._blocked_until and self._active(now) < self.limit:
            return self._grant(now, requested_at=now)
        waiter = _Waiter(name, requested_at=now)
        queue = self._queues.get(name)
        if queue is None:
            queue = self._queues[name] = deque()
            self._rotation.append(name)
        queue.append(waiter)
        self.queued += 1
        self._pump()
        last: int | None = None
        told_at = 0.0
        try:
            while waiter.slot is None:
                if on_queued is not None:
                    place = self._place(waiter)
                    if place is not None and _worth_telling(place.position, last, self._clock() - told_at):
                        last, told_at = place.position, self._clock()
                        try:
                            await on_queued(place)
                        except Exception:  # a failing notice must not lose the request
                            log.exception("queue callback failed")
                    if waiter.slot is not None:
                        break
                await waiter.wake.wait()
                waiter.wake.clear()
        except BaseException:
            waiter.cancelled = True
            if waiter.slot is not None:
                self.release(waiter.slot)
            else:
                self._drop(waiter)
            raise
        return waiter.slot

    def _drop(self, waiter: _Waiter) -> None:
        queue = self._queues.get(waiter.caller)
        if queue is not None and waiter in queue:
            queue.remove(waiter)
            if not queue:
                del self._queues[waiter.caller]
                self._rotation.remove(waiter.caller)
        self._pump()

    def _pump(self) -> None:
        now = self._clock()
        moved = False
        while self._rotation and now >= self._blocked_until and self._active(now) < self.limit:
            caller = self._rotation.popleft()
            queue = self._queues[caller]
            waiter = queue.popleft()
            if queue:
                self._rotation.append(caller)
            else:
                del self._queues[caller]
            waiter.slot = self._grant(now, requested_at=waiter.requested_at)
            waiter.wake.set()
            moved = True
        if moved:
            for queue in self._queues.values():
                for other in queue:
                    other.wake.set()
        self._schedule(now)

    def _schedule(self, now: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._rotation:
            return
        at = now
        if len(self._slots) >= self.limit:
            finite = [s.expires_at for s in self._slots if s.expires_at != math.inf]
            if not finite:
                return  # every slot is in flight: settle() pumps again
            at = min(finite)
        at = max(at, self._blocked_until)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._timer = loop.call_later(max(at - now, 0.0) + 0.001, self._pump)

    # --- where a caller stands ----------------------------------------------------------------------------------

    def _place(self, waiter: _Waiter) -> QueuePosition | None:
        queue = self._queues.get(waiter.caller)
        if queue is None or waiter not in queue:
            return None
        k = queue.index(waiter) + 1  # served in round k of the rotation
        before = 0
        seen_self = False
        for name in self._rotation:
            if name == waiter.caller:
                before += k - 1
                seen_self = True
            else:
                before += min(len(self._queues[name]), k - 1 if seen_self else k)
        position = before + 1
        return QueuePosition(
            position=position,
            expected_wait=self._expected_wait(position),
            extra={"caller": waiter.caller, "queued_requests": len(queue)},
        )

    def _expected_wait(self, position: int) -> float:
        now = self._clock()
        blocked = max(0.0, self._blocked_until - now)
        free = self.limit - self._active(now)
        if position <= free:
            return blocked
        expiries = sorted(s.expires_at if s.expires_at != math.inf else now + self.window for s in self._slots)
        if not expiries:
            return blocked
        n = position - max(free, 0)
        cycles, index = divmod(n - 1, len(expiries))
        return max(blocked, expiries[index] + cycles * self.window - now)

    def position(self, caller: str) -> QueuePosition | None:
        """Where ``caller``'s next waiting request stands (1 = next to go), or ``None`` if it is not waiting."""
        queue = self._queues.get(caller)
        return self._place(queue[0]) if queue else None

    def waiting(self) -> int:
        """How many requests wait in the queue."""
        return sum(len(q) for q in self._queues.values())


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


def _worth_telling(position: int, last: int | None, since: float) -> bool:
    """Tell a waiting caller its place the first time, then when it moved meaningfully (or every 5 s)."""
    if last is None:
        return True
    if position == last:
        return False
    return position <= 3 or position <= last * 0.8 or since >= 5.0


_budgets: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, RequestBudget]] = weakref.WeakKeyDictionary()


def shared_budget(key_fingerprint: str, limit: int = 60, window: float = 60.0) -> RequestBudget:
    """The process-wide budget for one API key (by fingerprint, never the key itself) in the running loop."""
    per_loop = _budgets.setdefault(asyncio.get_running_loop(), {})
    budget = per_loop.get(key_fingerprint)
    if budget is None:
        budget = per_loop[key_fingerprint] = RequestBudget(limit, window)
        budget.name = key_fingerprint
    return budget
