"""The invitation tables on SQLite (the SQL is shared with PostgreSQL in :mod:`storage.invitation_tables`)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import aiosqlite

from storage.invitation_tables import InvitationTables

__all__ = ["SQLiteInvitations"]


class SQLiteInvitations(InvitationTables):
    """Mixed into :class:`storage.sqlite.SQLiteStore`."""

    if TYPE_CHECKING:  # provided by the store
        _lock: asyncio.Lock

        async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]: ...

        def _transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...

    async def _rows(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        return list(await self._fetch(sql, params))

    async def _rows_each(self, sql: str, batches: Sequence[Sequence[Any]]) -> int:
        done = 0
        async with self._transaction() as db:
            for params in batches:
                done += len(list(await db.execute_fetchall(sql, params)))
        return done
