"""Fixtures for the Discord tests: a started fake Discord that discord.py is pointed at."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fake_discord import FakeDiscord, point_discord_py_at


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A running :class:`FakeDiscord` on 127.0.0.1 with discord.py's REST base and gateway pointed at it.

    Message sends/edits are limited to 5 per 5 s per channel (as on Discord); build your own
    ``FakeDiscord(message_limit=...)`` inside ``point_discord_py_at`` for other limits.
    """
    async with FakeDiscord() as fake:
        with point_discord_py_at(fake):
            yield fake
