"""Fixtures for the interview API tests: the built-in server on loopback and a client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.api.client import InterviewClient
from bot.api.models import Respondent, StartedInterview, StreamEvent, TextDelta, TextReplace
from bot.core.request_budget import RequestBudget
from bot.emulator import Emulator, EmulatorConfig, run_emulator


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """The built-in server, streaming as fast as it can, with a roomy rate limit."""
    async with run_emulator(EmulatorConfig(token_rate=0, rate_limit=1000, analysis_delay=0.05, seed=7)) as server:
        yield server


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[InterviewClient]:
    """A client of ``emu`` with its own budget and quick backoff."""
    async with InterviewClient(emu.base_url, emu.api_key, budget=RequestBudget(1000, 60.0), backoff_base=0.01) as api:
        yield api


@pytest.fixture
async def started(client: InterviewClient) -> StartedInterview:
    """An interview started for a respondent called Ana."""
    return await client.start(Respondent(external_id="u-1", display_name="Ana", metadata={"guild": "g1"}))


def reply_text(events: list[StreamEvent]) -> str:
    """The reply text the events add up to (honouring a TextReplace)."""
    text = ""
    for event in events:
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, TextReplace):
            text = event.text
    return text


async def collect(stream: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    """Every event of one reply."""
    return [event async for event in stream]
