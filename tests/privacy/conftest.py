"""Privacy fixtures: the core's (built-in server, SQLite and PostgreSQL stores, manual clock) plus raw table dumps."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.api.client import InterviewClient
from bot.core.bridge import Bridge
from bot.core.clock import ManualClock
from bot.core.studies import Study, StudyBook
from storage.postgres import PostgresStore
from storage.sqlite import SQLiteStore
from tests.core.conftest import CONFIG, adapter, client, clock, database, emulator, store
from tests.core.recording import RecordingAdapter

__all__ = ["BOOK", "adapter", "client", "clock", "database", "emulator", "store"]

#: A named study (the default) and an anonymous one.
BOOK = StudyBook(
    (
        Study("named", "Onboarding", once_per_respondent=False),
        Study("pulse", "Team pulse", anonymous=True, min_responses=3, once_per_respondent=False),
    )
)


@pytest.fixture
async def bridge(
    client: InterviewClient, store: SQLiteStore | PostgresStore, clock: ManualClock, adapter: RecordingAdapter
) -> AsyncIterator[Bridge]:
    core = Bridge(client, store, CONFIG, clock=clock, studies=BOOK)
    core.register(adapter)
    await core.start()
    yield core
    await core.stop()
