"""The shared edit budget: per-channel spacing, a global cap, and no starved conversation."""

from __future__ import annotations

import asyncio
import time

from adapters.discord.edit_budget import EditBudget


async def test_one_channel_is_spaced_by_the_interval() -> None:
    budget = EditBudget(interval=0.05, global_rate=1000)
    started = time.monotonic()
    for _ in range(4):
        await budget.acquire("dm-1")
    # grant n+1 comes at least one interval after grant n, so four grants span at least three intervals;
    # a loaded machine only makes this longer (gaps between callers' own timestamps could look shorter)
    assert time.monotonic() - started >= 3 * 0.05
    assert budget.stats.granted == 4


async def test_busy_channel_does_not_starve_the_others() -> None:
    budget = EditBudget(interval=0.0, global_rate=200, burst=1)
    order: list[str] = []
    hog_running = asyncio.Event()

    async def hog() -> None:
        for _ in range(30):
            await budget.acquire("hog")
            order.append("hog")
            if len(order) == 3:
                hog_running.set()

    async def once(name: str) -> None:
        await budget.acquire(name)
        order.append(name)

    hog_task = asyncio.create_task(hog())
    await hog_running.wait()
    others = [f"dm-{i}" for i in range(5)]
    await asyncio.gather(*(once(name) for name in others))
    await hog_task
    first_other = min(order.index(n) for n in others)
    last_other = max(order.index(n) for n in others)
    # round-robin: while five others wait, the hog gets at most one turn between each of them
    assert order[first_other : last_other + 1].count("hog") <= len(others), order


async def test_global_cap_holds_across_channels() -> None:
    budget = EditBudget(interval=0.0, global_rate=50, burst=1)
    started = time.monotonic()
    await asyncio.gather(*(budget.acquire(f"dm-{i}") for i in range(11)))
    # 11 grants at 50/s with a burst of 1 need at least 10 refills of 20 ms
    assert time.monotonic() - started >= 0.19
    assert budget.stats.granted == 11


async def test_cancelled_waiter_gives_its_turn_up() -> None:
    budget = EditBudget(interval=10.0, global_rate=100)
    await budget.acquire("dm-1")
    waiter = asyncio.create_task(budget.acquire("dm-1"))  # must wait 10 s
    await asyncio.sleep(0.01)
    assert budget.waiting() == 1
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert budget.waiting() == 0
    await asyncio.wait_for(budget.acquire("dm-2"), 1.0)  # other channels are not held up


async def test_a_waiter_sharing_a_cancelled_turn_still_gets_its_own() -> None:
    budget = EditBudget(interval=0.2, global_rate=100)
    await budget.acquire("dm-1")
    first = asyncio.create_task(budget.acquire("dm-1"))  # waits for the interval
    await asyncio.sleep(0)
    second = asyncio.create_task(budget.acquire("dm-1"))  # shares the first one's turn
    await asyncio.sleep(0)
    first.cancel()  # e.g. a reply's edit loop stopped while the other wanted the same channel
    await asyncio.gather(first, return_exceptions=True)
    await asyncio.wait_for(second, 5.0)  # not cancelled along with it
    assert not second.cancelled()
