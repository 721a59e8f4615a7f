"""One API budget per key across instances: the shared window in PostgreSQL (storage/pg_budget.py).

Three real processes on one key at 5x oversubscription get no 429 from the server, and the server never sees
more than the limit in any window. How much of the budget they use is measured by ``make bench`` (budget rows
of the ``shared_budget`` benchmark), not here.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from bench.budget_instance import run_instances
from bot.emulator import EmulatorConfig, run_emulator
from storage.pg_budget import PostgresRequestWindow
from storage.postgres import PostgresStore

LIMIT, WINDOW, INSTANCES = 12, 1.0, 3


@pytest.fixture
async def pool(pg_dsn: str) -> asyncpg.Pool:
    async with PostgresStore(pg_dsn):  # the schema, with the api_budget table
        pass
    created = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=4)
    yield created
    await created.close()


async def test_the_window_books_up_to_the_limit_and_frees_on_release(pool: asyncpg.Pool) -> None:
    window = PostgresRequestWindow(pool, "key-a", limit=3, window=30.0)
    other = PostgresRequestWindow(pool, "key-b", limit=3, window=30.0)
    tokens, _ = await window.take(2)
    more, _ = await window.take(5)  # only one more fits
    assert len(tokens) == 2 and len(more) == 1
    none, wait = await window.take()
    assert none == [] and 29.0 < wait <= 30.5  # full: the first booking frees in about one window
    assert len((await other.take())[0]) == 1  # keys are separate
    await window.release(tokens[0])
    assert len((await window.take())[0]) == 1
    await window.settle(tokens[1])  # counts a window from now: still booked
    assert (await window.take())[0] == []


async def test_a_late_settlement_counts_from_the_response(pool: asyncpg.Pool) -> None:
    """The time between the response and the settling statement (a busy loop) costs no capacity."""
    window = PostgresRequestWindow(pool, "key-late", limit=1, window=2.0)
    (token,), _ = await window.take()
    await window.settle(token, answered_at=time.monotonic() - 1.5)  # the response came 1.5 s ago
    _, wait = await window.take()
    assert 0.3 < wait < 0.7  # it frees 2 s after the response, not 2 s after the settlement
    await asyncio.sleep(wait + 0.05)
    assert len((await window.take())[0]) == 1


async def test_concurrent_bookings_never_exceed_the_limit(pool: asyncpg.Pool) -> None:
    windows = [PostgresRequestWindow(pool, "key-c", limit=5, window=30.0) for _ in range(3)]
    results = await asyncio.gather(*(w.take(2) for w in windows for _ in range(6)))
    assert sum(len(tokens) for tokens, _ in results) == 5


async def test_three_instances_on_one_key_get_no_429(pg_dsn: str, pool: asyncpg.Pool) -> None:
    config = EmulatorConfig(token_rate=0, rate_limit=LIMIT, rate_window=WINDOW)
    async with run_emulator(config) as emu:
        reports = await run_instances(
            emu.base_url, emu.api_key, pg_dsn, LIMIT, WINDOW, INSTANCES, callers=5, each=4
        )  # 3 × 5 × 4 = 60 requests on 12 a second: 5x what the key allows
        assert sum(r["limited"] for r in reports) == 0
        assert emu.window.rejected == 0
        assert sum(r["sent"] for r in reports) == INSTANCES * 5 * 4
