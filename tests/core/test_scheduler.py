"""The one fair scheduler (bot/core/scheduler.py) behind every budget: fairness, urgent and per-conversation
limits, place and expected wait, and keeping in step with a real server's rate-limit headers."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.api.client import InterviewClient
from bot.api.models import QueuePosition
from bot.core import FairScheduler, Grant, SlidingWindow, TokenBucket
from bot.core.request_budget import RequestBudget
from bot.emulator import EmulatorConfig, run_emulator
from tests.waiting import wait_until

NEVER_SET = asyncio.Event  # wait_until polls: nothing signals these conditions


def jain(values: list[int]) -> float:
    return sum(values) ** 2 / (len(values) * sum(v * v for v in values))


def test_a_shared_bucket_is_shared_evenly_in_virtual_time() -> None:
    """20 conversations, one queuing 10x as much: every round of the rotation serves each once."""
    loop = asyncio.new_event_loop()
    try:
        scheduler = FairScheduler(TokenBucket(rate=2.0, burst=1.0, now=0.0), clock=lambda: 0.0)
        granted: list[str] = []
        names = [f"c{n}" for n in range(20)]
        for name in names:
            for _ in range(50 if name == "c0" else 5):
                future: asyncio.Future[Grant] = loop.create_future()
                future.add_done_callback(lambda f: granted.append(f.result().conversation))
                scheduler.enqueue(name, future)
        now = 0.0
        while (delay := scheduler.serve(now)) is not None:
            now += delay
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()
    assert len(granted) == 50 + 19 * 5
    assert 144 / 2.0 - 1 <= now <= 145 / 2.0 + 0.1  # the bucket's rate holds for all together
    first_rounds = granted[: 20 * 5]
    assert jain([first_rounds.count(name) for name in names]) == pytest.approx(1.0)
    assert granted[20 * 5 :] == ["c0"] * 45  # the hungry one gets the rest once the others are done


async def test_urgent_requests_go_first_and_own_limits_hold_up_no_one_else() -> None:
    scheduler = FairScheduler(TokenBucket(rate=1000.0, burst=100.0, now=time.monotonic()))
    spacing = SlidingWindow(1, 0.3, in_flight=False)  # "dm-1" may edit once every 0.3 s
    await scheduler.acquire_slot("dm-1", limits=[spacing])
    order: list[str] = []

    async def take(name: str, **kw: object) -> None:
        await scheduler.acquire_slot(name, **kw)  # type: ignore[arg-type]
        order.append(name)

    held = asyncio.create_task(take("dm-1", limits=[spacing]))  # waits for its spacing
    await asyncio.sleep(0)
    await asyncio.wait_for(take("dm-2"), 0.2)  # another DM is not held up behind it
    await asyncio.wait_for(take("dm-1-send", urgent=True), 0.2)
    await held
    assert order == ["dm-2", "dm-1-send", "dm-1"]
    scheduler.close()


async def test_place_and_expected_wait_follow_the_bucket() -> None:
    scheduler = FairScheduler(TokenBucket(rate=10.0, burst=1.0, now=time.monotonic()))
    await scheduler.acquire("first")  # the burst is spent: one grant every 0.1 s from now
    places: dict[str, list[QueuePosition]] = {"a": [], "b": []}

    def told(name: str):  # type: ignore[no-untyped-def]
        async def on_queued(place: QueuePosition) -> None:
            places[name].append(place)

        return on_queued

    tasks = [asyncio.create_task(scheduler.acquire("a", told("a"))) for _ in range(3)]
    tasks.append(asyncio.create_task(scheduler.acquire("b", told("b"))))
    await asyncio.sleep(0)
    a, b = scheduler.position("a"), scheduler.position("b")
    assert a is not None and b is not None
    assert (a.position, b.position) == (1, 2)  # b goes right after a's first request, not after all three
    assert 0.0 < a.expected_wait <= 0.11 and 0.1 <= b.expected_wait <= 0.21
    assert places["b"][0].position == 2 and places["b"][0].extra["queued_requests"] == 1
    await asyncio.gather(*tasks)
    assert places["a"][0].position == 1 and scheduler.waiting() == 0
    scheduler.close()


async def test_another_process_on_the_same_key_is_seen_in_the_headers() -> None:
    """The built-in server counts a second client of the key (no budget of its own: another process); the
    budget books what the headers say and sends the rest so that the server never has to answer 429."""
    config = EmulatorConfig(token_rate=0, rate_limit=6, rate_window=1.5)
    budget = RequestBudget(6, 1.5)
    async with (
        run_emulator(config) as emu,
        InterviewClient(emu.base_url, emu.api_key) as other,
        InterviewClient(emu.base_url, emu.api_key, budget=budget) as client,
    ):
        started = await other.start()
        for _ in range(3):
            await other.get(started.interview_id)  # 4 of the 6 used elsewhere
        await client.get(started.interview_id, caller="mine")
        assert budget.available() == 1  # 6 − 4 (seen in X-RateLimit-Remaining) − 1 (ours)
        begin = time.monotonic()
        await asyncio.gather(*(client.get(started.interview_id, caller=f"c{n}") for n in range(4)))
        assert time.monotonic() - begin >= 0.5  # three of them waited for the other process's requests to age
        assert emu.window.rejected == 0 and emu.window.max_in_window <= 6


async def test_a_429s_retry_after_pauses_every_caller_of_the_key() -> None:
    budget = RequestBudget(60, 60.0)
    async with (
        run_emulator(EmulatorConfig(token_rate=0)) as emu,
        InterviewClient(emu.base_url, emu.api_key, budget=budget) as client,
    ):
        started = await client.start()
        emu.faults.force_429 = 1
        emu.faults.force_429_retry_after = 0.6
        begin = time.monotonic()
        first = asyncio.create_task(client.get(started.interview_id, caller="a"))
        await wait_until(lambda: budget.available() == 0, NEVER_SET(), 5.0, 0.005)  # the 429 paused the budget
        second = asyncio.create_task(client.get(started.interview_id, caller="b"))
        await wait_until(lambda: budget.position("b") is not None, NEVER_SET(), 5.0, 0.005)
        place = budget.position("b")
        # behind a's retry, and told the pause (Retry-After, or longer up to the server's X-RateLimit-Reset)
        pause = budget.window_limit.blocked_until - time.monotonic()
        assert place is not None and place.position == 2 and pause >= 0.3
        assert place.expected_wait == pytest.approx(pause, abs=0.05)
        await asyncio.gather(first, second)
        assert time.monotonic() - begin >= 0.6
        assert [r.status for r in emu.requests][-3:] == [429, 200, 200]


async def test_without_a_budget_the_client_still_honours_retry_after() -> None:
    async with (
        run_emulator(EmulatorConfig(token_rate=0)) as emu,
        InterviewClient(emu.base_url, emu.api_key, backoff_base=0.01) as client,  # the OpenGate
    ):
        started = await client.start()
        emu.faults.force_429 = 1
        emu.faults.force_429_retry_after = 0.3
        begin = time.monotonic()
        await client.get(started.interview_id)
        assert time.monotonic() - begin >= 0.3
        assert [r.status for r in emu.requests][-2:] == [429, 200]
