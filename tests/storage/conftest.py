"""Fixtures of the storage tests: real aiosqlite on a temporary file."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.core.keys import ConversationKey
from bot.core.store import InterviewRecord
from storage.sqlite import SQLiteStore

_ids = itertools.count(1)

MakeRecord = Callable[..., InterviewRecord]  # the make_record fixture


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
    """Where the test's database file goes."""
    return tmp_path / "bridge.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SQLiteStore]:
    """An open store on a fresh file, closed after the test."""
    s = SQLiteStore(db_path)
    await s.open()
    try:
        yield s
    finally:
        await s.close()
