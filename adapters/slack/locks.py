"""One-at-a-time sections per conversation, for listener decisions that read and then write adapter state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.core import ConversationKey


class ConversationLocks:
    """A lock per conversation key, created on first use and forgotten when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # conversation -> (lock, holders and waiters)

    def __len__(self) -> int:
        """How many conversations have a holder or a waiter now."""
        return len(self._locks)

    @asynccontextmanager
    async def hold(self, key: ConversationKey) -> AsyncIterator[None]:
        """Run the ``async with`` body alone among the bodies holding the same ``key``."""
        name = key.as_str()
        lock, users = self._locks.get(name) or (asyncio.Lock(), 0)
        self._locks[name] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[name]
            if users <= 1:
                del self._locks[name]
            else:
                self._locks[name] = (lock, users - 1)
