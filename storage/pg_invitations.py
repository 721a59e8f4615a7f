"""The invitation tables on PostgreSQL (the SQL is shared with SQLite in :mod:`storage.invitation_tables`)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import asyncpg

from storage.invitation_tables import InvitationTables, numbered

__all__ = ["PgInvitations"]


class PgInvitations(InvitationTables):
    """Mixed into :class:`storage.postgres.PostgresStore`."""

    if TYPE_CHECKING:  # provided by the store

        async def _fetch(self, sql: str, *params: Any) -> list[asyncpg.Record]: ...

        def _transaction(self) -> AbstractAsyncContextManager[Any]: ...

    async def _rows(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        return [tuple(row) for row in await self._fetch(numbered(sql), *params)]

    async def _rows_each(self, sql: str, batches: Sequence[Sequence[Any]]) -> int:
        done = 0
        statement = numbered(sql)
        async with self._transaction() as conn:
            prepared = await conn.prepare(statement)
            for params in batches:
                if await prepared.fetchrow(*params) is not None:
                    done += 1
        return done
