"""Study fixtures: the built-in interview server over real HTTP, a real SQLite store, a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from bot.api.client import InterviewClient
from bot.core.bridge import Bridge
from bot.core.clock import ManualClock
from bot.core.policy import BridgeConfig
from bot.core.studies import StudyBook
from bot.emulator import Emulator, EmulatorConfig, run_emulator
from bot.studies_file import parse_studies
from storage.sqlite import SQLiteStore
from tests.core.recording import RecordingAdapter

CONFIG = BridgeConfig(inactivity_timeout=600.0, inactivity_nudge=120.0, max_message_length=500)

TWO_STUDIES = """\
admins: {slack_users: [U0ADMIN]}
studies:
  - id: onboarding
    name: Joining Pixel Forge
    consent: Your answers go to the community team.
    results: {slack_channel: C0RESULTS}
  - id: pulse
    name: Team pulse
    anonymous: true
    min_responses: 3
    results: {slack_channel: C0PULSE}
  - id: archive
    name: Last year's survey
    closes_at: "2020-01-31T00:00:00Z"
"""

BridgeFactory = Callable[[StudyBook], AbstractAsyncContextManager[Bridge]]


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with run_emulator(EmulatorConfig(token_rate=5000.0, analysis_delay=0.05, rate_limit=100_000)) as emu:
        yield emu


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    db = SQLiteStore(tmp_path / "bridge.db")
    await db.open()
    yield db
    await db.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[InterviewClient]:
    async with InterviewClient(emulator.base_url, emulator.api_key, rate_limit=100_000, backoff_base=0.01) as api:
        yield api


@pytest.fixture
def adapter() -> RecordingAdapter:
    return RecordingAdapter()


@pytest.fixture
def make_bridge(
    client: InterviewClient, store: SQLiteStore, clock: ManualClock, adapter: RecordingAdapter
) -> BridgeFactory:
    @asynccontextmanager
    async def make(book: StudyBook) -> AsyncIterator[Bridge]:
        core = Bridge(client, store, CONFIG, clock=clock, studies=book)
        core.register(adapter)
        await core.start()
        try:
            yield core
        finally:
            await core.stop()

    return make


@pytest.fixture
async def bridge(make_bridge: BridgeFactory) -> AsyncIterator[Bridge]:
    async with make_bridge(parse_studies(TWO_STUDIES)) as core:
        yield core
