"""Waiting for a condition in a fake platform, woken by its change event (shared by the fake Discord and Slack)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any


async def wait_until(predicate: Callable[[], Any], changed: asyncio.Event, timeout: float, poll: float) -> None:  # noqa: ASYNC109
    """Return once ``predicate()`` is truthy, checked at each ``changed`` and every ``poll`` s; else TimeoutError."""
    deadline = time.monotonic() + timeout
    while not predicate():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"condition not met within {timeout} s")
        changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), min(remaining, poll))
