"""One fair scheduler: a shared rate budget, served round-robin across conversations.

Every budget the bot keeps is this class with a different configuration (see ``bot/core/request_budget.py``
for the API key, ``adapters/discord/writes.py`` for Discord's per-DM and global limits,
``adapters/slack/budget.py`` for Slack's per-method tiers per workspace):

* a **shared limit** (a :class:`~bot.core.limits.Limit`) that every request passes;
* optionally, per request, **limits of its own** (a DM's write window, its edit spacing) that it must pass too;
* waiting requests are served **round-robin across conversations**: a conversation that was just served goes
  to the back of the line, so one with ten waiting requests never starves one with one; a request that its
  own limits hold back does not hold up the others; **urgent** requests go before the others;
* a waiting caller learns its **place and expected wait** (:meth:`FairScheduler.position`, ``on_queued``);
* **optional** requests (:meth:`FairScheduler.try_acquire`) take spare capacity only: never ahead of anyone
  waiting, and while capacity is scarce at most a fair share per conversation.

A grant counts until it is settled (:meth:`FairScheduler.settle`, the answer arrived) or released (it never
went out). The scheduler is pumped one way for all: a timer on the running loop when the next unit frees,
and at once when a request settles. :meth:`FairScheduler.serve` is the same step with time passed in.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.api.gate import QueueCallback
from bot.api.models import QueuePosition
from bot.core.limits import Limit, Slot

log = logging.getLogger(__name__)

#: A conversation counts as active (for fair shares of spare capacity) this long after its last grant.
ACTIVE_WINDOW = 60.0


class BudgetListener(Protocol):
    """Told what a budget does (metrics): how long each granted request waited, and each 429."""

    def waited(self, seconds: float) -> None:
        """A request was granted ``seconds`` after it asked (0 when it did not queue)."""

    def rate_limited(self) -> None:
        """The platform answered 429: the whole budget pauses."""


@dataclass(eq=False)
class Grant:
    """One request let through: its unit of the shared limit and of each of its own limits."""

    conversation: str
    slot: Slot
    own: list[tuple[Limit, Slot]] = field(default_factory=list)
    done: bool = False
    #: its booking in a window shared with other processes, if the budget keeps one
    booking: object | None = None


@dataclass(eq=False)
class _Waiter:
    conversation: str
    requested_at: float
    future: asyncio.Future[Any]
    limits: Sequence[Limit] = ()
    urgent: bool = False
    moved: asyncio.Event | None = None  # set when the line moved (for callers told their place)


class FairScheduler:
    """A shared rate budget served round-robin across conversations, with queue position and expected wait."""

    def __init__(
        self,
        shared: Limit,
        *,
        clock: Callable[[], float] = time.monotonic,
        margin: float = 0.02,
        keep_history: bool = False,
    ) -> None:
        """``margin``: how much longer than the limit's window a grant that is never settled counts."""
        self.common = shared  # the limit every request passes
        self.margin = margin
        self._clock = clock
        self._queues: dict[str, deque[_Waiter]] = {}
        self._rotation: deque[str] = deque()
        self._urgent = 0
        self._timer: asyncio.TimerHandle | None = None
        self._anonymous = itertools.count(1)
        self._last_grant: dict[str, float] = {}
        self._recent: set[str] = set()
        self._recent_at: float | None = None
        #: Told of every grant's wait and every 429 (metrics); add with ``listeners.append``.
        self.listeners: list[BudgetListener] = []
        #: Counters for benchmarks, logs and tests: requests granted, requests that had to wait.
        self.granted = 0
        self.queued = 0
        #: With ``keep_history``: the shared unit of every grant, in grant order.
        self.history: list[Slot] | None = [] if keep_history else None

    # --- granting -------------------------------------------------------------------------------------------

    def _grant(self, conversation: str, now: float, limits: Sequence[Limit], requested_at: float) -> Grant:
        grant = Grant(conversation, self.common.take(now, requested_at), [(lim, lim.take(now)) for lim in limits])
        self.granted += 1
        self._last_grant[conversation] = now
        self._recent.add(conversation)
        if self.history is not None:
            self.history.append(grant.slot)
        for listener in self.listeners:
            listener.waited(max(0.0, now - requested_at))
        return grant

    def _eligible(self, limits: Sequence[Limit], now: float) -> bool:
        return all(limit.free(now) for limit in limits)

    def try_acquire(
        self, conversation: str, *, limits: Sequence[Limit] = (), share: bool = False, now: float | None = None
    ) -> Grant | None:
        """A grant if one may go at once and nobody waits, else ``None`` (never waits).

        With ``share`` (an optional request the next one supersedes): while the shared limit is more than half
        used, a conversation gets at most one grant per ``active conversations / rate`` seconds.
        """
        now = self._clock() if now is None else now
        if self._rotation:
            self._prune()
        if self._rotation or not self.common.free(now) or not self._eligible(limits, now):
            return None
        last = self._last_grant.get(conversation)
        if share and last is not None and self.common.headroom(now) < 0.5:
            active = self.active_conversations(now, including=conversation)
            if active > 1 and now - last < active / self.common.rate:
                return None
        return self._grant(conversation, now, limits, now)

    async def acquire_slot(
        self,
        conversation: str | None = None,
        on_queued: QueueCallback | None = None,
        *,
        limits: Sequence[Limit] = (),
        urgent: bool = False,
    ) -> Grant:
        """Wait for this conversation's turn; then :meth:`settle` the grant (or :meth:`release` it if unused).

        ``on_queued`` hears the request's place and expected wait when it has to wait, and again when the
        place moved meaningfully. Cancelling the wait gives the turn up.
        """
        name = conversation if conversation is not None else f"~anonymous-{next(self._anonymous)}"
        now = self._clock()
        granted = self.try_acquire(name, limits=limits, now=now)
        if granted is not None:
            return granted
        future: asyncio.Future[Grant] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(name, now, future, limits, urgent, asyncio.Event() if on_queued is not None else None)
        self._enqueue(waiter)
        self._pump()
        try:
            if on_queued is not None:
                await self._tell_while_waiting(waiter, on_queued)
            return await future
        except BaseException:
            if future.done() and not future.cancelled():
                self.release(future.result())  # granted, but the caller is gone
            else:
                future.cancel()
                self._remove(waiter)
                self._pump()
            raise

    async def acquire(self, conversation: str | None = None, on_queued: QueueCallback | None = None) -> None:
        """Wait for a turn that counts from its grant (plus ``margin``): for callers that do not settle."""
        grant = await self.acquire_slot(conversation, on_queued)
        self._settle_at(grant, self._clock() + self.margin)
        if self._rotation:
            self._pump()

    def settle(self, grant: Grant) -> None:
        """The request's answer arrived (or it failed after going out): its units count from now."""
        self._settle_at(grant, self._clock())
        self._pump()

    def _settle_at(self, grant: Grant, now: float) -> None:
        if grant.done:
            return
        grant.done = True
        self.common.settle(grant.slot, now)
        for limit, slot in grant.own:
            limit.settle(slot, now)

    def release(self, grant: Grant) -> None:
        """The request provably never went out: give its units back."""
        if not grant.done:
            grant.done = True
            self.common.release(grant.slot)
            for limit, slot in grant.own:
                limit.release(slot)
        self._pump()

    def charge(self, units: int = 1, until: float | None = None) -> None:
        """Count ``units`` of the shared limit used outside the queue (e.g. by another process)."""
        self.common.charge(self._clock(), units, until)

    def penalize(self, seconds: float) -> None:
        """The platform answered 429: grant nothing for ``seconds``."""
        for listener in self.listeners:
            listener.rate_limited()
        self.common.block(self._clock(), seconds)
        self._pump()

    # --- the queue ------------------------------------------------------------------------------------------

    def _enqueue(self, waiter: _Waiter) -> None:
        queue = self._queues.get(waiter.conversation)
        if queue is None:
            queue = self._queues[waiter.conversation] = deque()
            self._rotation.append(waiter.conversation)
        queue.append(waiter)
        self._urgent += waiter.urgent
        self.queued += 1

    def enqueue(self, conversation: str, future: asyncio.Future[Any], *, limits: Sequence[Limit] = ()) -> None:
        """Queue a request whose ``future`` gets its :class:`Grant` when :meth:`serve` grants it."""
        self._enqueue(_Waiter(conversation, self._clock(), future, limits))

    def _remove(self, waiter: _Waiter) -> None:
        queue = self._queues.get(waiter.conversation)
        if queue is None or waiter not in queue:
            return
        queue.remove(waiter)
        self._urgent -= waiter.urgent
        if not queue:
            del self._queues[waiter.conversation]
            self._rotation.remove(waiter.conversation)

    def _prune(self) -> None:
        """Forget waiters that gave up."""
        for queue in list(self._queues.values()):
            for waiter in [w for w in queue if w.future.done()]:
                self._remove(waiter)

    def _pick(self, now: float) -> _Waiter | None:
        """The next request to grant: round-robin across conversations, urgent ones first."""
        for urgent_only in (True, False) if self._urgent else (False,):
            for name in self._rotation:
                for waiter in self._queues[name]:
                    if (waiter.urgent or not urgent_only) and self._eligible(waiter.limits, now):
                        return waiter
        return None

    def serve(self, now: float) -> float | None:
        """Grant what may go at ``now``; seconds until the next chance (``inf``: when a request settles), or
        ``None`` when nobody waits."""
        self._prune()
        moved = False
        while self._rotation and self.common.free(now):
            waiter = self._pick(now)
            if waiter is None:
                break
            name = waiter.conversation
            self._remove(waiter)
            if name in self._queues:  # more from this conversation: to the back of the line
                self._rotation.remove(name)
                self._rotation.append(name)
            waiter.future.set_result(self._grant(name, now, waiter.limits, waiter.requested_at))
            if waiter.moved is not None:
                waiter.moved.set()
            moved = True
        if moved:
            for queue in self._queues.values():
                for other in queue:
                    if other.moved is not None:
                        other.moved.set()
        if not self._rotation:
            return None
        own = min(
            (max((limit.ready_in(now) for limit in w.limits), default=0.0) for q in self._queues.values() for w in q),
            default=0.0,
        )
        delay = max(self.common.ready_in(now), own)
        return delay if delay <= 0.0 else max(delay, 0.001)  # a step that a float clock always makes progress with

    def _pump(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        delay = self.serve(self._clock())
        if delay is None or delay == math.inf:
            return  # nobody waits, or only a settling request can free a unit (settle() pumps again)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._timer = loop.call_later(max(delay, 0.0), self._pump)

    def close(self) -> None:
        """Stop the timer (waiting requests stay queued; nothing runs in the background afterwards)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # --- where a caller stands ------------------------------------------------------------------------------

    async def _tell_while_waiting(self, waiter: _Waiter, on_queued: QueueCallback) -> None:
        assert waiter.moved is not None
        last: int | None = None
        told_at = 0.0
        while not waiter.future.done():
            place = self._place(waiter)
            if place is not None and _worth_telling(place.position, last, self._clock() - told_at):
                last, told_at = place.position, self._clock()
                try:
                    await on_queued(place)
                except Exception:  # a failing notice must not lose the request
                    log.exception("queue callback failed")
            if waiter.future.done():
                break
            await waiter.moved.wait()  # set when the line moved, and when this request is granted
            waiter.moved.clear()

    def _place(self, waiter: _Waiter) -> QueuePosition | None:
        queue = self._queues.get(waiter.conversation)
        if queue is None or waiter not in queue:
            return None
        k = queue.index(waiter) + 1  # served in round k of the rotation
        before = 0
        seen_self = False
        for name in self._rotation:
            if name == waiter.conversation:
                before += k - 1
                seen_self = True
            else:
                before += min(len(self._queues[name]), k - 1 if seen_self else k)
        position = before + 1
        return QueuePosition(
            position=position,
            expected_wait=self.common.expected_wait(self._clock(), position),
            extra={"caller": waiter.conversation, "queued_requests": len(queue)},
        )

    def position(self, conversation: str) -> QueuePosition | None:
        """Where the conversation's next waiting request stands (1 = next to go), or ``None`` if none waits."""
        queue = self._queues.get(conversation)
        return self._place(queue[0]) if queue else None

    def waiting(self) -> int:
        """How many requests wait."""
        return sum(len(q) for q in self._queues.values())

    def active_conversations(self, now: float, including: str | None = None) -> int:
        """Conversations granted within :data:`ACTIVE_WINDOW` or waiting now (plus ``including``)."""
        if self._recent_at is None or not 0.0 <= now - self._recent_at < 1.0:  # recomputed at most once a second
            cutoff = now - ACTIVE_WINDOW
            self._recent = {c for c, t in self._last_grant.items() if t >= cutoff}
            self._recent_at = now
            for c in [c for c, t in self._last_grant.items() if t < cutoff]:
                del self._last_grant[c]  # forget conversations long quiet
        extra = {c for c in self._queues if c not in self._recent}
        if including is not None and including not in self._recent:
            extra.add(including)
        return len(self._recent) + len(extra)

    def last_grant(self, conversation: str) -> float | None:
        """When the conversation was last granted a request (within :data:`ACTIVE_WINDOW`)."""
        return self._last_grant.get(conversation)


def _worth_telling(position: int, last: int | None, since: float) -> bool:
    """Tell a waiting caller its place the first time, then when it moved meaningfully (or every 5 s)."""
    if last is None:
        return True
    if position == last:
        return False
    return position <= 3 or position <= last * 0.8 or since >= 5.0
