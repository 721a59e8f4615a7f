"""Discord's global limit across instances: 3 instances of one bot, each with its own write budget (40/s), write as
fast as they may into DMs of their own, first each on its own budget, then sharing the global window through
PostgreSQL (``WriteBudget.share``, as ``interview-bridge run`` does on a shared database).

Each instance has its own connection pool, as separate processes have. A write is granted, "sent" (a 10 ms round
trip) and settled. Reported side by side: the fleet's writes a second (over the span they were granted in) and the
busiest second (Discord answers 429 beyond 50 requests a second per bot), and how much of the shared 40/s the fleet
used (as ``bench_shared_budget``: writes / (limit × (seconds + 1)), the first window's burst counted once). Writes
are counted when granted, before the request leaves: Discord sees at most as many in any second.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from contextlib import AsyncExitStack

import asyncpg

from adapters.discord.writes import GLOBAL_WINDOW, WriteBudget
from bench.bench_postgres import fresh_schema, server_dsn
from storage.pg_budget import PostgresRequestWindow
from storage.postgres import PostgresStore

INSTANCES, DMS, SECONDS, ROUND_TRIP, RATE = 3, 20, 4.0, 0.010, 40.0


async def _fleet(dsn: str | None) -> list[float]:
    """Grant times of every write of the fleet over :data:`SECONDS` (shared through ``dsn`` if given)."""
    budgets = [WriteBudget(interval=0.0, global_rate=RATE, dm_writes=None) for _ in range(INSTANCES)]
    granted: list[float] = []
    async with AsyncExitStack() as stack:
        if dsn is not None:
            for budget in budgets:
                pool = await stack.enter_async_context(asyncpg.create_pool(dsn, min_size=2, max_size=4))

                def window(key: str, limit: int, seconds: float, pool: asyncpg.Pool = pool) -> PostgresRequestWindow:
                    return PostgresRequestWindow(pool, key, limit, seconds)

                budget.share(window, "bench-bot")
        deadline = time.monotonic() + SECONDS

        async def dm(budget: WriteBudget, channel: str) -> None:
            while time.monotonic() < deadline:
                async with budget.write(channel):
                    granted.append(time.monotonic())
                    await asyncio.sleep(ROUND_TRIP)

        await asyncio.gather(*(dm(b, f"{n}-{d}") for n, b in enumerate(budgets) for d in range(DMS)))
        for budget in budgets:
            budget.close()
    return sorted(granted)


def _rate(times: list[float]) -> float:
    """Writes a second over the span they were granted in."""
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


def _busiest(times: list[float]) -> int:
    return max((bisect.bisect_left(times, t + GLOBAL_WINDOW) - i for i, t in enumerate(times)), default=0)


async def run() -> list[dict[str, object]]:
    """Own budgets, then the shared window: writes a second and the busiest second, side by side."""
    with server_dsn() as server:
        dsn = await fresh_schema(server, "bench_discord_fleet")
        async with PostgresStore(dsn):  # the schema (api_budget) is made
            pass
        own = await _fleet(None)
        shared = await _fleet(dsn)
    label = f"{INSTANCES} instances × {DMS} DMs, {RATE:g}/s each"
    return [
        {"metric": "writes/s, own budgets", "value": _rate(own), "unit": "1/s", "note": label},
        {"metric": "writes/s, shared window", "value": _rate(shared), "unit": "1/s", "note": label},
        {"metric": "busiest second, own budgets", "value": _busiest(own), "unit": "writes", "note": "Discord: ≤ 50"},
        {"metric": "busiest second, shared window", "value": _busiest(shared), "unit": "writes", "note": "≤ 40"},
        {
            "metric": "shared 40/s used",
            "value": 100 * len(shared) / (RATE * ((shared[-1] - shared[0]) / GLOBAL_WINDOW + 1)),
            "unit": "%",
            "note": f"writes / (40 × (seconds + 1)); a write's {ROUND_TRIP * 1000:g} ms round trip counts too",
        },
    ]
