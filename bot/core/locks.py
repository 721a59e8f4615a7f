"""One lock per conversation: events of one conversation run one at a time, others never wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

#: A lock shared with other instances, taken once the in-process one is held (see bot.core.coordination).
SharedLock = Callable[[str], AbstractAsyncContextManager[None]]


class KeyedLocks:
    """A lock per key, created on demand and dropped when nobody holds or waits for it.

    With ``shared``, holding a key's lock also holds the key's lock across instances (taken second, so the
    coroutines of one process queue in memory and only one of them at a time waits on the database).
    """

    def __init__(self, shared: SharedLock | None = None) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}
        self._shared = shared

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold the lock of ``key`` for the duration of the block."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                if self._shared is None:
                    yield
                else:
                    async with self._shared(key):
                        yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)
