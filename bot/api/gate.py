"""What the client needs from a request budget: a small port that the composition root fills.

The client knows nothing of how the budget is kept (``bot.api`` imports no other project code). Before each
request it waits at the :class:`RequestGate` for a slot, settles the slot when the response arrived (or
releases it when the request provably never left), and reports what the server said about its limits: the
``X-RateLimit-*`` headers of every response, and the pause a 429 asked for. The bot's fair scheduler
(``bot.core.request_budget.RequestBudget``) is such a gate; without one, :class:`OpenGate` lets every request
through and only honours the server's 429 pauses.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeVar

from bot.api.models import QueuePosition

#: Told where a waiting request stands (its place in line and expected wait).
QueueCallback = Callable[[QueuePosition], Awaitable[None]]

SlotT = TypeVar("SlotT")


class RequestGate(Protocol[SlotT]):
    """A shared budget of requests, one per API key."""

    async def acquire_slot(self, caller: str | None = None, on_queued: QueueCallback | None = None, /) -> SlotT:
        """Wait for ``caller``'s turn; ``on_queued`` hears its place and expected wait while it waits."""

    def settle(self, slot: SlotT, /) -> None:
        """The response to the slot's request arrived (or the request failed after it went out)."""

    def release(self, slot: SlotT, /) -> None:
        """The slot's request provably never reached the server."""

    def observe(self, headers: Mapping[str, str], /) -> None:
        """The server's ``X-RateLimit-Limit/Remaining/Reset`` headers of a response."""

    def penalize(self, retry_after: float, /) -> None:
        """The server answered 429: send nothing for ``retry_after`` seconds."""


class OpenGate:
    """No budget of the client's own: every request goes at once, except while a 429's pause lasts."""

    def __init__(self) -> None:
        self._paused_until = 0.0

    async def acquire_slot(self, caller: str | None = None, on_queued: QueueCallback | None = None) -> None:
        """Wait out a 429's pause, if one lasts."""
        left = self._paused_until - time.monotonic()
        if left > 0:  # a later 429 while this one slept pauses the next request, not this one
            await asyncio.sleep(left)

    def settle(self, slot: Any) -> None:
        """Nothing is counted."""

    def release(self, slot: Any) -> None:
        """Nothing is counted."""

    def observe(self, headers: Mapping[str, str]) -> None:
        """Nothing is counted."""

    def penalize(self, retry_after: float) -> None:
        """Pause every request for ``retry_after`` seconds."""
        self._paused_until = max(self._paused_until, time.monotonic() + max(retry_after, 0.0))
