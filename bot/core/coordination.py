"""How instances that share one database take turns: conversation locks, the sweeper's leadership, turn leases.

A single instance (SQLite, or one process on PostgreSQL) needs none of it: :class:`SingleInstance` is the default.
Several instances on one PostgreSQL get their coordination from the storage backend (advisory locks), through
this port, so the core stays free of any database driver.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol

RENEWALS_PER_LEASE = 3
"""How often per lease the running instance renews its leases (three chances before one lapses)."""


class Coordination(Protocol):
    """What the core asks of the other instances sharing its database."""

    @property
    def instance(self) -> str:
        """This instance's id (the owner named in its turn leases)."""
        ...

    @property
    def shared(self) -> bool:
        """True when other instances may share the database: turns then carry leases."""
        ...

    def conversation(self, key: str) -> AbstractAsyncContextManager[None]:
        """Hold the conversation's lock across every instance (on top of the in-process one)."""
        ...

    async def lead(self) -> bool:
        """True while this instance is the one that sweeps (deadlines, reminders, retries, expired turns).

        Called before each sweep: it takes the leadership when nobody holds it, and checks it still holds it.
        """
        ...

    async def close(self) -> None:
        """Give up the leadership and release what the coordination holds."""


class SingleInstance:
    """The only instance: every lock is in-process, it always leads, turns carry no lease."""

    def __init__(self) -> None:
        self._instance = uuid.uuid4().hex[:12]

    @property
    def instance(self) -> str:
        return self._instance

    @property
    def shared(self) -> bool:
        return False

    @contextlib.asynccontextmanager
    async def conversation(self, key: str) -> AsyncIterator[None]:
        yield

    async def lead(self) -> bool:
        return True

    async def close(self) -> None:
        return None
