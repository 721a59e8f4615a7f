"""A key's request window shared with other processes (several instances of the bot on one database).

The process's own :class:`bot.core.request_budget.RequestBudget` keeps its fair queue; each slot it grants is then also
booked in the shared window, so all the processes on one key together stay within the key's limit. The window
itself lives in the database (``storage.pg_budget``); this module says what the budget expects of it, and books
for the process: one booker per process asks for every slot waiting at once, so a window that frees thirty
slots is refilled in one round trip, not thirty.

While the window is full, a booking is made ahead: it takes over the slot that frees next and says when that is,
and the caller sleeps until exactly then and sends. So a slot is used again the moment it frees, without a
round trip to the database in between, and the booker asks again only when nothing at all could be booked
(every slot in flight or already booked ahead).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable
from typing import Protocol

log = logging.getLogger(__name__)

POLLS_PER_WINDOW = 50
"""While nothing can be booked, not even ahead, how often per window a process looks again (20 ms for 1 s)."""


class SharedWindow(Protocol):
    """The request window of one key, shared by every process that uses the key."""

    async def take(self, count: int = 1) -> tuple[list[object], float]:
        """Book up to ``count`` requests as the window has room now: ``(tokens, 0.0)``; none: ``([], seconds to
        wait)``."""
        ...

    async def book(self, count: int = 1) -> tuple[list[tuple[object, float]], float]:
        """Book up to ``count`` requests: ``([(token, seconds until it may be sent), …], 0.0)``, soonest first (0.0
        where the window has room now, more for a booking made ahead); none: ``([], seconds to wait)``."""
        ...

    async def settle(self, token: object, answered_at: float | None = None) -> None:
        """The booked request's response arrived (at ``answered_at`` on ``time.monotonic``, default now): it counts
        one window from then."""

    async def release(self, token: object) -> None:
        """The booked request never reached the server: drop the booking."""


class Booker:
    """Books the slots a process's budget grants in the shared window, in grant order, many per round trip; and
    settles or gives back each booking in the background (a window that cannot be told lets it lapse)."""

    def __init__(self, shared: SharedWindow, window: float) -> None:
        self.shared = shared
        self._window = window
        self._waiting: deque[asyncio.Future[tuple[object, float] | None]] = deque()
        self._runner: asyncio.Task[None] | None = None
        self._calls: set[asyncio.Task[None]] = set()  # settlements and releases on their way
        #: The last booking reached the shared window (False: this process's budget holds alone).
        self.reachable = True

    async def book(self) -> object | None:
        """Wait for a slot in the shared window, book it and wait until it may be used; None when the window
        cannot be reached (the process's own budget still holds)."""
        loop = asyncio.get_running_loop()
        booking: asyncio.Future[tuple[object, float] | None] = loop.create_future()
        self._waiting.append(booking)
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="shared-window")
        try:
            booked = await booking
        except BaseException:
            late = booking.result() if booking.done() and not booking.cancelled() else None
            if late is not None:
                self.release(late[0])  # booked just as its caller gave up
            raise
        if booked is None:
            return None
        token, due = booked
        try:
            await asyncio.sleep(max(0.0, due - loop.time()))  # until the slot it took over frees
        except BaseException:
            self.release(token)
            raise
        return token

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while self._waiting and self._waiting[0].done():  # its caller gave up
                self._waiting.popleft()
            if not self._waiting:
                return
            try:
                bookings, wait = await self.shared.book(len(self._waiting))
            except Exception:  # the database is away: do not stop the bot for it
                self._unreachable()
                while self._waiting:
                    waiter = self._waiting.popleft()
                    if not waiter.done():
                        waiter.set_result(None)
                return
            self.reachable = True
            answered = loop.time()  # the window's "seconds from now" are at least that far from here
            for token, starts_in in bookings:
                self._hand_out(token, answered + starts_in)
            if not bookings:
                # every slot is in flight or booked ahead: look again once one may have settled
                await asyncio.sleep(min(max(wait, 0.005), self._window / POLLS_PER_WINDOW))

    def _hand_out(self, token: object, due: float) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result((token, due))
                return
        self.release(token)  # every waiter gave up meanwhile: the booking is not needed

    async def book_now(self) -> bool:
        """Book one request made outside the queue if the window has room right now: False when it is full. True
        when the window cannot be reached (this process's budget holds alone; such a booking lapses by itself)."""
        try:
            booked, _ = await self.shared.take(1)
        except Exception:  # the database is away: do not stop the bot for it
            self._unreachable()
            return True
        self.reachable = True
        return bool(booked)

    def settle(self, token: object, answered_at: float) -> None:
        """The request's answer arrived at ``answered_at`` (``time.monotonic``): told to the window meanwhile."""
        self._in_background(self.shared.settle(token, answered_at))

    def release(self, token: object) -> None:
        """The request never went out: its booking is given back meanwhile."""
        self._in_background(self.shared.release(token))

    def _unreachable(self) -> None:
        self.reachable = False
        log.warning("the shared request window cannot be reached; using this process's budget alone")

    def _in_background(self, call: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await call
            except Exception:  # the booking then lapses at its provisional end
                log.warning("the shared request window could not be updated", exc_info=True)

        task = asyncio.get_running_loop().create_task(run())
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)
