"""Core fixtures: the built-in interview server over real HTTP, a real store (SQLite and PostgreSQL), a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.api.client import InterviewClient
from bot.core.bridge import Bridge
from bot.core.clock import ManualClock
from bot.core.policy import BridgeConfig
from bot.emulator import Emulator, EmulatorConfig, run_emulator
from storage.locations import store_at
from storage.postgres import PostgresStore
from storage.sqlite import SQLiteStore
from tests.core.recording import RecordingAdapter

CONFIG = BridgeConfig(inactivity_timeout=600.0, inactivity_nudge=120.0, max_message_length=500)


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with run_emulator(EmulatorConfig(token_rate=5000.0, analysis_delay=0.05)) as emu:
        yield emu


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the test's data lives: an SQLite file, or a fresh schema of the throwaway PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "bridge.db")
    return str(request.getfixturevalue("pg_dsn"))


@pytest.fixture
async def store(database: str) -> AsyncIterator[SQLiteStore | PostgresStore]:
    db = store_at(database)
    await db.open()
    yield db
    await db.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[InterviewClient]:
    async with InterviewClient(emulator.base_url, emulator.api_key, backoff_base=0.01) as api:
        yield api


@pytest.fixture
def adapter() -> RecordingAdapter:
    return RecordingAdapter()


@pytest.fixture
async def bridge(
    client: InterviewClient, store: SQLiteStore | PostgresStore, clock: ManualClock, adapter: RecordingAdapter
) -> AsyncIterator[Bridge]:
    core = Bridge(client, store, CONFIG, clock=clock)
    core.register(adapter)
    await core.start()
    yield core
    await core.stop()
