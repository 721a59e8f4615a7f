"""Discord's write limits, as configuration of the core's fair scheduler (one per adapter, shared by every DM).

Three limits hold at once:

* **globally**, at most ``global_rate`` writes a second (a token bucket with a small burst): Discord's global
  limit is 50 requests/s and must also cover typing and interaction answers, so the default leaves room;
* **per DM**, at most ``dm_writes`` writes — new messages, edits and deletes alike — in any ``dm_window``
  seconds (Discord's long-standing guidance: 5 per 5 s per DM channel). A write counts from its grant until
  Discord answered plus the window, so Discord's own window never sees more, however slow the request;
* **per DM**, edits of a streamed reply at most one every ``interval`` seconds. This is the one throttle of a
  streamed reply: the core's relay hands every chunk over at once (the adapter's ``update_interval`` is 0),
  and the reply edits with its newest text when its turn comes, so chunks coalesce while it waits.

New messages (a reply's placeholder, a question, a notice) are *urgent*: they go before waiting edits and do
not wait for the edit interval, but they count in the DM's window. Waiting DMs are served round-robin, so one
busy conversation never starves the others.

Several instances of one bot on one PostgreSQL database share the global limit (:meth:`WriteBudget.share`): each
write the instance's queue grants is also booked in a window of ``global_rate`` writes a second that every
instance books in (the core's ``SharedScheduler``, as the API key's budget and Slack's tiers), so together
they stay within Discord's 50 requests/s per bot. The per-DM windows stay the instance's own: a DM's writes
come from the instance running its turn (see docs/scaling.md, "Discord's write limits").
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from bot.config import Settings
from bot.core import Grant, Limit, Observer, SharedScheduler, SharedWindow, SlidingWindow, TokenBucket

#: Discord's guidance for one DM channel: 5 writes per 5 s.
DM_WRITES, DM_WINDOW = 5, 5.0
#: Quiet DMs are forgotten when this many are on record.
SWEEP_AT = 1024
#: The window (seconds) of the global limit as booked across instances: Discord counts requests per second.
GLOBAL_WINDOW = 1.0

#: Makes the window named ``key`` allowing ``limit`` requests per ``window`` seconds that every instance books in.
SharedWindows = Callable[[str, int, float], SharedWindow]


@dataclass(slots=True)
class BudgetStats:
    """Counters for benches and logs."""

    granted: int = 0
    waited: float = 0.0


class WriteBudget:
    """A fair scheduler of one bot's writes: take a turn before each write into a DM, settle it after."""

    def __init__(
        self,
        interval: float = 1.0,
        global_rate: float = 40.0,
        *,
        burst: float | None = None,
        dm_writes: int | None = DM_WRITES,
        dm_window: float = DM_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``interval``: seconds between edits of one reply; ``global_rate``: writes/s over all DMs; ``dm_writes``
        per ``dm_window`` seconds: writes of any kind in one DM (``None``: no such limit)."""
        if interval < 0 or global_rate <= 0:
            raise ValueError("interval must be ≥ 0 and global_rate > 0")
        self.interval = interval
        self.global_rate = global_rate
        self.dm_writes = dm_writes
        self.dm_window = dm_window
        self._clock = clock
        self.scheduler = SharedScheduler(
            TokenBucket(global_rate, burst if burst is not None else max(1.0, global_rate / 5), clock()),
            booking_window=GLOBAL_WINDOW,
            clock=clock,
        )
        self._windows: dict[str, SlidingWindow] = {}
        self._spacing: dict[str, SlidingWindow] = {}
        self._held: dict[str, Grant] = {}  # edit turns granted, for the next write into their DM
        self.stats = BudgetStats()
        #: told how long each write waited for its turn (metrics)
        self.on_wait: Callable[[float], None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, observer: Observer | None = None) -> WriteBudget:
        """The budget of ``DISCORD_EDIT_INTERVAL``, ``DISCORD_DM_WRITES`` and ``DISCORD_DM_WINDOW``; its waits are
        reported to ``observer``."""
        budget = cls(
            settings.discord_edit_interval, dm_writes=settings.discord_dm_writes, dm_window=settings.discord_dm_window
        )
        if observer is not None:
            budget.on_wait = lambda waited: observer.platform_write_waited(platform="discord", seconds=waited)
        return budget

    def share(self, windows: SharedWindows, bot: str) -> None:
        """Book every write in the global window of the bot named ``bot`` (its user id) that the other instances on
        the database book in too: ``global_rate`` writes per :data:`GLOBAL_WINDOW` for all of them together."""
        self.scheduler.shared = windows(f"discord {bot} writes", max(1, int(self.global_rate)), GLOBAL_WINDOW)

    @property
    def shared(self) -> SharedWindow | None:
        """The global window shared with the other instances, if any."""
        return self.scheduler.shared

    def _limits(self, channel: str, *, edit: bool) -> list[Limit]:
        limits: list[Limit] = []
        if self.dm_writes is not None:
            window = self._windows.get(channel)
            if window is None:
                if len(self._windows) >= SWEEP_AT:
                    self._sweep()
                window = self._windows[channel] = SlidingWindow(self.dm_writes, self.dm_window, in_flight=True)
            limits.append(window)
        if edit and self.interval > 0:
            limits.append(self._spacing_of(channel))
        return limits

    def _spacing_of(self, channel: str) -> SlidingWindow:
        spacing = self._spacing.get(channel)
        if spacing is None:
            spacing = self._spacing[channel] = SlidingWindow(1, self.interval, in_flight=False)
        spacing.window = self.interval  # the interval may have been changed since
        return spacing

    async def _turn(self, channel: str, *, edit: bool) -> Grant:
        started = self._clock()
        grant = await self.scheduler.acquire_slot(channel, limits=self._limits(channel, edit=edit), urgent=not edit)
        waited = self._clock() - started
        self.stats.granted += 1
        self.stats.waited += waited
        if self.on_wait is not None:
            self.on_wait(waited)
        return grant

    async def acquire(self, channel: str) -> Grant:
        """Wait for this DM's turn to edit a streamed reply; the next :meth:`write` into the DM goes on it (release
        it if nothing was written). Cancelling the wait gives the turn up."""
        grant = self._held[channel] = await self._turn(channel, edit=True)
        return grant

    async def acquire_urgent(self, channel: str) -> Grant:
        """Wait for a turn to post (or delete) a message: before waiting edits, not held by the edit interval."""
        return await self._turn(channel, edit=False)

    def settle(self, grant: Grant) -> None:
        """The write was answered (or failed after it went out): it counts in the DM's window from now."""
        self.scheduler.settle(grant)

    def release(self, grant: Grant) -> None:
        """The turn was not used (nothing to write after all): give it back. No effect once settled."""
        if self._held.get(grant.conversation) is grant:
            del self._held[grant.conversation]
        self.scheduler.release(grant)

    @contextlib.asynccontextmanager
    async def edit_turn(self, channel: str) -> AsyncIterator[Grant]:
        """Wait for this DM's turn to edit (see :meth:`acquire`); a turn no write used is given back after."""
        grant = await self.acquire(channel)
        try:
            yield grant
        finally:
            self.release(grant)

    @contextlib.asynccontextmanager
    async def write(self, channel: str) -> AsyncIterator[None]:
        """One write into ``channel``: on the edit turn held for it, if any, else on an urgent turn of its own."""
        held = self._held.pop(channel, None)
        grant = held if held is not None and not held.done else await self.acquire_urgent(channel)
        try:
            yield
        finally:
            self.settle(grant)

    async def outside_queue(self) -> bool:
        """May a cosmetic write (typing) go now, outside the queue? False when the global window the instances
        share is full at the moment (leave it out); else it is booked there, and counted by :meth:`note_write`."""
        return await self.scheduler.book_now()

    def note_write(self, channel: str | None = None) -> None:
        """Count a write made outside the queue (typing) against the global limit, and if a ``channel`` is
        named, against its edit interval (its next edit waits a full interval)."""
        self.scheduler.charge()
        if channel is not None and self.interval > 0:
            now = self._clock()
            self._spacing_of(channel).charge(now, 1, now + self.interval)

    def waiting(self) -> int:
        """How many writes wait for their turn."""
        return self.scheduler.waiting()

    def _sweep(self) -> None:
        """Forget the DMs of which no write counts any more."""
        now = self._clock()
        for records in (self._windows, self._spacing):
            for channel in [c for c, limit in records.items() if not limit.active(now)]:
                del records[channel]

    def close(self) -> None:
        """Stop the scheduler's timer."""
        self.scheduler.close()
