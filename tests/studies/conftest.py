"""Study fixtures: the built-in interview server over real HTTP, a real SQLite store, a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from bot.api.client import InterviewClient
from bot.core.bridge import Bridge
from bot.core.clock import ManualClock
from bot.core.keys import ConversationKey
from bot.core.policy import BridgeConfig
from bot.core.ports import ResultsCard, ResultsFile
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
    results: {slack_channel: C0RESULTS, discord_channel: "900"}
  - id: pulse
    name: Team pulse
    anonymous: true
    min_responses: 3
    results: {discord_channel: "901"}
  - id: archive
    name: Last year's survey
    closes_at: "2020-01-31T00:00:00Z"
"""

BridgeFactory = Callable[[StudyBook], AbstractAsyncContextManager[Bridge]]


#: A short brief with every structured question type (so results have something to count and chart).
BRIEF = """
study: {id: results-test, title: Results test}
interviewer:
  greeting: "Hi {name}! GREETING"
  closing: "That's all, thank you {name}!"
  acknowledgements: [Thanks.]
themes:
  - {name: Channel overload, keywords: [channel*, confus*]}
  - {name: Feeling welcome, keywords: [welcom*, friendly]}
questions:
  - {id: why, type: open_ended, text: "What brought you here?", max_follow_ups: 0}
  - {id: ease, type: scale, text: "How easy was joining?", scale_min: 1, scale_max: 5, max_follow_ups: 0}
  - {id: src, type: single_choice, text: "Where did you hear of us?", options: [A friend, Reddit, YouTube],
     max_follow_ups: 0}
  - {id: use, type: multiple_choice, text: "Which do you use?", options: [Voice, Forums, Events],
     min_choices: 1, max_choices: 3, max_follow_ups: 0}
  - {id: rank, type: ranking, text: "Rank these for us.", options: [Speed, Price, Fun], max_follow_ups: 0}
  - {id: back, type: yes_no, text: "Would you come back?", max_follow_ups: 0}
"""


@pytest.fixture
async def emulator(tmp_path: Path) -> AsyncIterator[Emulator]:
    brief = tmp_path / "brief.yaml"
    brief.write_text(BRIEF, encoding="utf-8")
    config = EmulatorConfig(brief=brief, token_rate=5000.0, analysis_delay=0.05, rate_limit=100_000)
    async with run_emulator(config) as emu:
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
    async with InterviewClient(emulator.base_url, emulator.api_key, backoff_base=0.01) as api:
        yield api


class ResultsRecorder(RecordingAdapter):
    """A platform stand-in that also records what is posted to results channels and handed over privately."""

    def __init__(self, platform: str = "test") -> None:
        super().__init__(platform)
        self.posted: list[tuple[str, ResultsCard, tuple[ResultsFile, ...]]] = []
        self.private: list[tuple[ConversationKey, ResultsFile, str]] = []

    async def post_results(self, channel: str, card: ResultsCard, files: Sequence[ResultsFile] = ()) -> None:
        self.posted.append((channel, card, tuple(files)))
        self.changed.set()

    async def send_file_privately(self, key: ConversationKey, file: ResultsFile, text: str) -> None:
        self.private.append((key, file, text))


@pytest.fixture
def adapter() -> ResultsRecorder:
    return ResultsRecorder()


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
