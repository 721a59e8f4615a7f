"""Fixtures for the Discord tests: a started fake Discord that discord.py is pointed at."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fake_discord import FakeDiscord, serving


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A running :class:`FakeDiscord` on 127.0.0.1 with discord.py's REST base and gateway pointed at it.

    Message sends/edits are limited to 5 per 5 s per channel (as on Discord); use
    ``async with fake_discord.serving(message_limit=...)`` (the module) for other settings.
    """
    async with serving() as fake:
        yield fake
    assert not fake.internal_errors, "the fake Discord itself failed:\n" + "\n".join(fake.internal_errors)
