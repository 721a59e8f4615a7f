"""Helpers of the operations tests: polling the bot's HTTP server until it answers as expected.

(A module of its own: ``from conftest import …`` would find whichever test folder's conftest came first.)
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp


async def get(url: str) -> tuple[int, Any]:
    """GET ``url``: the status and the body (JSON when it is JSON, else text); status 0 if nothing listens."""
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, await response.text()
    except aiohttp.ClientConnectionError:
        return 0, None


async def until_status(url: str, status: int, timeout: float = 20.0) -> tuple[float, Any]:  # noqa: ASYNC109
    """Poll ``url`` until it answers ``status``; returns (seconds it took, body). TimeoutError after ``timeout``."""
    started = time.monotonic()
    last: tuple[int, Any] = (0, None)
    while time.monotonic() - started < timeout:
        last = await get(url)
        if last[0] == status:
            return time.monotonic() - started, last[1]
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{url} did not answer {status} within {timeout} s; last answer: {last}")
