"""Fixtures of the storage tests: every test runs on both backends, real aiosqlite and real PostgreSQL."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.core.keys import ConversationKey
from bot.core.store import InterviewRecord
from storage.postgres import PostgresStore
from storage.sqlite import SQLiteStore

_ids = itertools.count(1)

MakeRecord = Callable[..., InterviewRecord]  # the make_record fixture
AnyStore = SQLiteStore | PostgresStore
NewStore = Callable[..., AnyStore]  # the new_store fixture
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture
def make_record() -> MakeRecord:
    """Build an InterviewRecord with a fresh id for ``discord::<channel>:<user>``; any field can be overridden."""

    def make(user: str = "u1", channel: str = "dm1", platform: str = "discord", **fields: Any) -> InterviewRecord:
        n = next(_ids)
        values: dict[str, Any] = {
            "interview_id": f"iv-{n}",
            "session_token": f"secret-session-token-{n}",
            "created_at": 1000.0 + n,
            "updated_at": 1000.0 + n,
            "last_activity_at": 1000.0 + n,
        }
        values.update(fields)
        return InterviewRecord(key=ConversationKey(platform, "", channel, user), **values)

    return make


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's SQLite database file goes."""
    return tmp_path / "bridge.db"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend under test."""
    return str(request.param)


@pytest.fixture
def new_store(backend: str, db_path: Path, request: pytest.FixtureRequest) -> NewStore:
    """Make a new (unopened) store on the test's database: every call reaches the same data, like a restart or
    a second instance. Keyword arguments go to the backend (``encryption_key=…``)."""
    if backend == "sqlite":
        return lambda **options: SQLiteStore(db_path, **options)
    dsn = str(request.getfixturevalue("pg_dsn"))
    return lambda **options: PostgresStore(dsn, **options)


@pytest.fixture
async def store(new_store: NewStore) -> AsyncIterator[AnyStore]:
    """An open store on a fresh database, closed after the test."""
    s = new_store()
    await s.open()
    try:
        yield s
    finally:
        await s.close()


CountRows = Callable[[str], Awaitable[int]]  # the count_rows fixture


@pytest.fixture
def count_rows(backend: str, db_path: Path, request: pytest.FixtureRequest) -> CountRows:
    """How many rows a table of the test's database holds, read with the plain driver (not through the store)."""
    if backend == "sqlite":

        async def count_sqlite(table: str) -> int:
            with sqlite3.connect(db_path) as raw:
                return int(raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

        return count_sqlite
    dsn = str(request.getfixturevalue("pg_dsn"))

    async def count_postgres(table: str) -> int:
        conn = await asyncpg.connect(dsn)
        try:
            return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
        finally:
            await conn.close()

    return count_postgres
