"""A key's request window shared with other processes (several instances of the bot on one database).

The process's own :class:`bot.core.request_budget.RequestBudget` keeps its fair queue; each slot it grants is then also
booked in the shared window, so all the processes on one key together stay within the key's limit. The window
itself lives in the database (``storage.pg_budget``); this module says what the budget expects of it, and books
for the process: one booker per process asks for every slot waiting at once, so a window that frees thirty
slots is refilled in one round trip, not thirty.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Protocol

log = logging.getLogger(__name__)

POLLS_PER_WINDOW = 50
"""While the shared window is full, how often per window a process looks for room again (20 ms for 1 s)."""


class SharedWindow(Protocol):
    """The request window of one key, shared by every process that uses the key."""

    async def take(self, count: int = 1) -> tuple[list[object], float]:
        """Book up to ``count`` requests as the window has room: ``(tokens, 0.0)``; none: ``([], seconds to wait)``."""
        ...

    async def settle(self, token: object, answered_at: float | None = None) -> None:
        """The booked request's response arrived (at ``answered_at`` on ``time.monotonic``, default now): it counts
        one window from then."""

    async def release(self, token: object) -> None:
        """The booked request never reached the server: drop the booking."""


class Booker:
    """Books the slots a process's budget grants in the shared window, in grant order, many per round trip."""

    def __init__(self, shared: SharedWindow, window: float) -> None:
        self.shared = shared
        self._window = window
        self._waiting: deque[asyncio.Future[object | None]] = deque()
        self._runner: asyncio.Task[None] | None = None

    async def book(self) -> object | None:
        """Wait for room in the shared window and book it; None when it cannot be reached (the process's own
        budget still holds)."""
        booking: asyncio.Future[object | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(booking)
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="shared-window")
        return await booking

    async def _run(self) -> None:
        while True:
            while self._waiting and self._waiting[0].done():  # its caller gave up
                self._waiting.popleft()
            if not self._waiting:
                return
            try:
                tokens, wait = await self.shared.take(len(self._waiting))
            except Exception:  # the database is away: do not stop the bot for it
                log.warning("the shared request window cannot be reached; using this process's budget alone")
                while self._waiting:
                    waiter = self._waiting.popleft()
                    if not waiter.done():
                        waiter.set_result(None)
                return
            for token in tokens:
                self._hand_out(token)
            if not tokens:
                # the soonest booking may still be in flight, due to end earlier than booked: look again before
                await asyncio.sleep(min(max(wait, 0.005), self._window / POLLS_PER_WINDOW))

    def _hand_out(self, token: object) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(token)
                return
        # every waiter gave up meanwhile: the booking is not needed
        asyncio.get_running_loop().create_task(self.shared.release(token))
