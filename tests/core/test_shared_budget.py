"""One API budget per key across instances: the shared window in PostgreSQL (storage/pg_budget.py).

Three real processes on one key at 5x oversubscription get no 429 from the server, and the server never sees
more than the limit in any window. While the window is full, a caller books the slot that frees next, ahead:
its booking starts exactly where the booking it took over ends, and it is sent then, with no 429. How much of the
budget they use is measured by ``make bench`` (the ``shared_budget`` benchmark), not here.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from bench.budget_instance import run_instances
from bot.api.client import InterviewClient
from bot.core.request_budget import RequestBudget
from bot.emulator import EmulatorConfig, run_emulator
from storage.pg_budget import MARGIN, PostgresRequestWindow
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


async def rows(pool: asyncpg.Pool, key: str) -> dict[int, tuple[float, float, bool]]:
    """The key's bookings: id → (starts_at, expires_at, settled)."""
    found = await pool.fetch("SELECT id, starts_at, expires_at, settled FROM api_budget WHERE key = $1", key)
    return {r["id"]: (r["starts_at"], r["expires_at"], r["settled"]) for r in found}


async def test_a_full_window_books_the_slot_that_frees_next(pool: asyncpg.Pool) -> None:
    window = PostgresRequestWindow(pool, "key-ahead", limit=2, window=30.0)
    (first, second), _ = await window.take(2)
    await window.settle(first)  # answered: it ends 30 s from now, for good; the second is still in flight
    ends = (await rows(pool, "key-ahead"))[first][1]
    bookings, wait = await window.book(3)
    assert wait == 0.0 and len(bookings) == 1  # one slot taken over ahead a call; none of the one in flight
    ((ahead, starts_in),) = bookings
    assert 29.0 < starts_in <= 30.0
    booked = await rows(pool, "key-ahead")
    assert set(booked) == {second, ahead}  # it replaced the settled booking: still two in the window
    assert booked[ahead] == (ends, ends + 30.0 + MARGIN, False)  # from where that one ends; a dead caller's runs out
    nothing, wait = await window.book()  # the other is in flight, this one booked ahead: nothing to take over
    assert nothing == [] and 29.0 < wait <= 30.0 + MARGIN
    assert (await window.take())[0] == []  # and no room now either


async def test_a_booking_given_back_before_its_start_keeps_its_slot_until_then(pool: asyncpg.Pool) -> None:
    window = PostgresRequestWindow(pool, "key-back", limit=1, window=30.0)
    (first,), _ = await window.take()
    await window.settle(first)
    ((ahead, _),), _ = await window.book()
    starts = (await rows(pool, "key-back"))[ahead][0]
    await window.release(ahead)  # the caller gave up while it waited for its start
    assert (await rows(pool, "key-back"))[ahead] == (starts, starts, True)  # the first request counts until then
    assert (await window.take())[0] == []
    ((again, _),), _ = await window.book()  # the next caller takes the slot over: it starts just as early
    assert (await rows(pool, "key-back"))[again][0] == starts
    await window.release(first)  # a booking gone already: nothing happens
    assert set(await rows(pool, "key-back")) == {again}


async def test_a_waiting_caller_gets_the_slot_another_instance_frees_without_a_429(pool: asyncpg.Pool) -> None:
    """Two instances on one key: the first fills the window; the second's callers book its slots ahead, each from
    the end of a settled booking (so the server, which counts the first instance's requests until then, has
    room), and send then; one that gives up keeps its slot until its start."""
    window = 3.0
    async with run_emulator(EmulatorConfig(token_rate=0, rate_limit=2, rate_window=window)) as emu:
        budgets = [RequestBudget(2, window) for _ in range(2)]
        for budget in budgets:
            budget.shared = PostgresRequestWindow(pool, "key-e2e", 2, window)
        async with (
            InterviewClient(emu.base_url, emu.api_key, budget=budgets[0], max_retries=0) as first,
            InterviewClient(emu.base_url, emu.api_key, budget=budgets[1], max_retries=0) as second,
        ):
            interview = await first.start()
            await first.get(interview.interview_id)  # the window is full
            while not all(settled for _, _, settled in (await rows(pool, "key-e2e")).values()):
                assert not emu.window.rejected
                await asyncio.sleep(0.01)  # the settlements are on their way to the database
            ends = sorted(end for _, end, _ in (await rows(pool, "key-e2e")).values())
            waiting = [asyncio.create_task(second.get(interview.interview_id, caller=f"c{n}")) for n in range(2)]
            starts: list[float] = []
            while starts != ends and not all(task.done() for task in waiting):
                await asyncio.sleep(0.01)
                starts = sorted(start for start, _, _ in (await rows(pool, "key-e2e")).values())
            assert starts == ends  # both booked ahead, each from the end of a booking of the first instance
            waiting[1].cancel()  # the later one gives up while it waits: its slot stays booked until its start

            async def later() -> tuple[float, float, bool]:
                return next(row for row in (await rows(pool, "key-e2e")).values() if row[0] == ends[1])

            while not (await later())[2]:
                assert emu.window.rejected == 0
                await asyncio.sleep(0.01)  # given back on its way to the database
            assert await later() == (ends[1], ends[1], True)  # the first instance's request counts until then
            await waiting[0]
        assert emu.window.rejected == 0 and emu.window.max_in_window == 2


async def test_an_instance_whose_database_is_away_keeps_to_its_own_budget(pg_dsn: str) -> None:
    async with PostgresStore(pg_dsn):
        pass
    away = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=1)
    await away.close()  # every booking now fails
    async with run_emulator(EmulatorConfig(token_rate=0, rate_limit=2, rate_window=30.0)) as emu:
        budget = RequestBudget(2, 30.0)
        budget.shared = PostgresRequestWindow(away, "key-away", 2, 30.0)
        async with InterviewClient(emu.base_url, emu.api_key, budget=budget, max_retries=0) as client:
            interview = await client.start()
            await client.get(interview.interview_id)  # sent within the process's own budget
            assert budget.available() == 0  # which is used up now
        assert emu.window.rejected == 0


async def test_the_other_instances_requests_are_counted_once(pool: asyncpg.Pool) -> None:
    """The server's headers count every instance's requests; with a shared window these are booked there already,
    so the process's own budget does not book them again (it would hold the process back from slots the others
    leave free until a reset rounded up to whole seconds)."""
    async with run_emulator(EmulatorConfig(token_rate=0, rate_limit=4, rate_window=30.0)) as emu:
        other = PostgresRequestWindow(pool, "key-once", 4, 30.0)
        budget = RequestBudget(4, 30.0)
        budget.shared = PostgresRequestWindow(pool, "key-once", 4, 30.0)
        async with InterviewClient(emu.base_url, emu.api_key, budget=budget, max_retries=0) as client:
            interview = await client.start()
            async with InterviewClient(emu.base_url, emu.api_key, max_retries=0) as elsewhere:
                (booked,), _ = await other.take()  # another instance's request, booked in the shared window
                await elsewhere.get(interview.interview_id)
                await other.settle(booked)
            await client.get(interview.interview_id)  # the server says: 3 of 4 used
            assert budget.available() == 2  # this process sent 2 of them; the shared window holds the third
            assert len(await rows(pool, "key-once")) == 3
        assert emu.window.rejected == 0
