"""Several instances on one PostgreSQL database: :class:`bot.core.coordination.Coordination` by advisory locks.

- **Conversation locks**: ``pg_advisory_lock`` keyed by the conversation, held on a connection of a pool of
  its own for as long as the core holds the conversation (events are short; turns stream outside the lock).
  The pool is separate from the store's, so lock holders never starve the statements they are waiting to run.
- **The sweeper's leadership**: ``pg_try_advisory_lock`` keyed by the schema (one sweeper per deployment),
  held on one dedicated connection. When the leading instance dies its connection closes, PostgreSQL drops
  the lock, and the next instance to try (every sweep interval) leads.

Should a connection break, PostgreSQL releases its locks with it, so a lock is never left behind.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator

import asyncpg

from storage.dsn import describe_dsn
from storage.pg_locks import LockSpace, name_key
from storage.pg_migrations import Connection

_log = logging.getLogger(__name__)

LOCK_POOL_SIZE = 20
"""Connections for conversation locks: how many conversations one instance can hold at the same moment."""
_CONNECTION_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


class PostgresCoordination:
    """The coordination of instances sharing the database at ``dsn``; :meth:`open` before use."""

    def __init__(self, dsn: str, *, lock_pool_size: int = LOCK_POOL_SIZE, instance: str | None = None) -> None:
        self.dsn = dsn
        self._instance = instance or uuid.uuid4().hex[:12]
        self._lock_pool_size = lock_pool_size
        self._pool: asyncpg.Pool | None = None
        self._leader: Connection | None = None  # the connection holding the leadership lock, while we lead

    def __repr__(self) -> str:
        return f"PostgresCoordination({describe_dsn(self.dsn)!r}, instance={self._instance!r})"

    @property
    def instance(self) -> str:
        return self._instance

    @property
    def leader_name(self) -> str:
        """The ``application_name`` of this instance's connection while it leads."""
        return f"interview-bridge leader {self._instance}"

    @property
    def shared(self) -> bool:
        return True

    async def open(self) -> None:
        """Connect the lock pool."""
        if self._pool is None:
            self._pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=self._lock_pool_size)

    async def close(self) -> None:
        """Give up the leadership (closing its connection) and close the lock pool."""
        leader, self._leader = self._leader, None
        if leader is not None:
            with contextlib.suppress(*_CONNECTION_ERRORS):
                await leader.close()
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    @contextlib.asynccontextmanager
    async def conversation(self, key: str) -> AsyncIterator[None]:
        """Hold the conversation's advisory lock (waiting for the instance that holds it, if any)."""
        if self._pool is None:
            raise RuntimeError("the coordination is not open")
        lock = (LockSpace.CONVERSATION, name_key(key))
        async with self._pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1, $2)", *lock)
            try:
                yield
            finally:
                # if this fails the connection is broken, and PostgreSQL has dropped its locks with it
                with contextlib.suppress(*_CONNECTION_ERRORS):
                    await conn.execute("SELECT pg_advisory_unlock($1, $2)", *lock)

    async def lead(self) -> bool:
        """True while this instance holds the leadership; takes it when nobody does."""
        if self._leader is not None:
            try:
                await self._leader.fetchval("SELECT 1")  # the lock lives as long as this connection
                return True
            except _CONNECTION_ERRORS:
                _log.warning("coordination: lost the leader's connection; trying to lead again")
                self._leader = None
        try:  # named, so an operator (or a test) sees in pg_stat_activity which instance leads
            conn = await asyncpg.connect(self.dsn, server_settings={"application_name": self.leader_name})
        except _CONNECTION_ERRORS as error:
            _log.warning("coordination: cannot reach the database to lead: %s", type(error).__name__)
            return False
        try:  # one sweeper per schema: deployments in other schemas of the database have their own
            schema = str(await conn.fetchval("SELECT current_schema()"))
            leading = bool(
                await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", LockSpace.LEADER, name_key(schema))
            )
        except _CONNECTION_ERRORS:
            leading = False
        if not leading:
            with contextlib.suppress(*_CONNECTION_ERRORS):
                await conn.close()
            return False
        self._leader = conn
        _log.info("coordination: instance %s now runs the sweeps", self._instance)
        return True
