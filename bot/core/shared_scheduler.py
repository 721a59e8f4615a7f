"""A fair scheduler whose grants are also booked in a window shared with other processes.

Several instances of the bot on one PostgreSQL database must together stay within limits that count every
instance's requests: an API key's requests a minute (:class:`bot.core.request_budget.RequestBudget`), a Discord
bot's writes a second (``adapters/discord/writes.py``). Each instance keeps its own fair queue; once set,
:attr:`SharedScheduler.shared` (a ``bot.api.shared_window.SharedWindow``, e.g. ``storage.pg_budget``) books every
slot the queue grants in the shared window too, in grant order and many per round trip (a ``Booker``), so the
wait includes the other instances' use; while that window is full, the slot that frees next is booked ahead and
the request waits until exactly then. The booking is settled when the request's answer arrived and given back
when it never went out, as the grant is. A database that cannot be reached leaves the process's own budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from bot.api.gate import QueueCallback
from bot.api.shared_window import Booker, SharedWindow
from bot.core.limits import Limit
from bot.core.scheduler import FairScheduler, Grant


class SharedScheduler(FairScheduler):
    """A :class:`FairScheduler` that books its grants in a window other processes book in too, when it has one."""

    def __init__(
        self,
        shared: Limit,
        *,
        booking_window: float,
        clock: Callable[[], float] = time.monotonic,
        margin: float = 0.02,
        keep_history: bool = False,
    ) -> None:
        """``booking_window``: the shared window's length in seconds (how often a full window is looked at again)."""
        super().__init__(shared, clock=clock, margin=margin, keep_history=keep_history)
        self.booking_window = booking_window
        self._booker: Booker | None = None

    @property
    def shared(self) -> SharedWindow | None:
        """The window this budget shares with other processes, if any (set by the composition root)."""
        return self._booker.shared if self._booker is not None else None

    @shared.setter
    def shared(self, window: SharedWindow | None) -> None:
        self._booker = Booker(window, self.booking_window) if window is not None else None

    async def acquire_slot(
        self,
        conversation: str | None = None,
        on_queued: QueueCallback | None = None,
        *,
        limits: Sequence[Limit] = (),
        urgent: bool = False,
    ) -> Grant:
        """Wait for a slot (fairly); with a shared window, book it there too: the wait then includes the
        other processes' use. Settle it when the response arrived, or release it if never sent."""
        grant = await super().acquire_slot(conversation, on_queued, limits=limits, urgent=urgent)
        if self._booker is not None:
            try:
                grant.booking = await self._booker.book()
            except BaseException:
                self.release(grant)
                raise
        return grant

    async def book_now(self) -> bool:
        """Book one request made outside the queue (e.g. a cosmetic one) if the shared window has room right now:
        False when it is full (leave the request out). True without a shared window or when it cannot be reached
        (the booking then lapses by itself: the request is never settled)."""
        return True if self._booker is None else await self._booker.book_now()

    def _settle_at(self, grant: Grant, now: float) -> None:
        if not grant.done and self._booker is not None and grant.booking is not None:
            self._booker.settle(grant.booking, time.monotonic())
        super()._settle_at(grant, now)

    def release(self, grant: Grant) -> None:
        """The request provably never reached the server: give its slot back (here and in the shared window)."""
        if not grant.done and self._booker is not None and grant.booking is not None:
            self._booker.release(grant.booking)
            grant.booking = None
        super().release(grant)
