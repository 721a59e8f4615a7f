"""A Slack workspace's rate tiers shared by several instances on one PostgreSQL database: together they make no
more calls of a method than its tier allows, however many instances there are."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from adapters.slack.budget import SlackBudget
from storage.pg_budget import PostgresRequestWindow
from storage.postgres import PostgresStore

TEAM = "T0SHARED"
TIER = 5  # chat.update calls a minute in this workspace, for all the instances together


@pytest.fixture
async def budgets(pg_dsn: str) -> AsyncIterator[list[SlackBudget]]:
    """Three instances' budgets, each on its own connection pool to the same database."""
    stores = [PostgresStore(pg_dsn) for _ in range(3)]
    made: list[SlackBudget] = []
    for store in stores:
        await store.open()
        pool = store.pool

        def tier(key: str, limit: int, window: float, pool: asyncpg.Pool = pool) -> PostgresRequestWindow:
            return PostgresRequestWindow(pool, key, limit, window)

        # each instance's own bucket would allow the whole tier at once: only the shared window holds them back
        budget = SlackBudget({"chat.update": float(TIER)}, bursts={"chat.update": float(TIER)})
        budget.shared = tier
        made.append(budget)
    try:
        yield made
    finally:
        for budget in made:
            await budget.close()
        for store in stores:
            await store.close()


async def test_optional_calls_of_all_instances_stay_within_the_tier(budgets: list[SlackBudget]) -> None:
    granted = [await budget.shared_room(TEAM, "chat.update", wait=False) for _ in range(TIER) for budget in budgets]
    assert granted.count(True) == TIER  # not TIER per instance
    assert not await budgets[0].shared_room(TEAM, "chat.update", wait=False)
    # another workspace, and a method limited per conversation, have tiers of their own
    assert await budgets[0].shared_room("T0OTHER", "chat.update", wait=False)
    assert await budgets[0].shared_room(TEAM, "assistant.threads.setStatus", wait=False)


async def test_required_calls_wait_for_room_in_the_shared_tier(budgets: list[SlackBudget], pg_dsn: str) -> None:
    calls = [
        asyncio.create_task(budget.acquire(TEAM, "chat.update", f"D{n}")) for n in range(3) for budget in budgets
    ]  # 9 required calls, 5 allowed a minute
    done = asyncio.Event()
    for call in calls:
        call.add_done_callback(lambda _: done.set())
    try:
        while sum(call.done() for call in calls) < TIER:
            done.clear()
            await asyncio.wait_for(done.wait(), 30)
        assert sum(call.done() for call in calls) == TIER  # the rest wait: the window holds a minute
        assert all(call.exception() is None for call in calls if call.done())

        conn = await asyncpg.connect(pg_dsn)  # the minute passes: the calls booked in it leave the window
        try:
            await conn.execute("DELETE FROM api_budget")
        finally:
            await conn.close()
        await asyncio.wait_for(asyncio.gather(*calls), 30)  # the other 4 fit in the next minute
    finally:
        for call in calls:
            call.cancel()
        await asyncio.gather(*calls, return_exceptions=True)


async def test_optional_calls_leave_room_for_required_ones(budgets: list[SlackBudget]) -> None:
    """Intermediate updates of every instance never take the last of the tier: a reply's final text, in any
    instance, goes at once instead of polling for a slot that the next intermediate update grabs first."""
    spare = [await b.shared_room(TEAM, "chat.update", wait=False, spare=True) for _ in range(TIER) for b in budgets]
    assert spare.count(True) == TIER - 1  # a fifth of the tier (at least one call) is left to required calls
    await asyncio.wait_for(budgets[2].shared_room(TEAM, "chat.update", wait=True), 2.0)  # no wait for a minute
    assert not await budgets[1].shared_room(TEAM, "chat.update", wait=False)  # now the tier is full
