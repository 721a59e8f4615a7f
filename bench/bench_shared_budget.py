"""One API budget across instances: 3 processes on one key at 5x oversubscription, through PostgreSQL.

Each process runs the bot's API client with its own fair budget, sharing the key's window through the database
(``storage/pg_budget.py``). The key allows 30 requests per 1 s window (the 60/min budget scaled down so it runs
in seconds); the three processes ask for 5x that at once. Reported: the 429s the server answered, the share
of the capacity used over the run (requests / (limit × (windows elapsed + 1))), and the busiest window the
server saw. A slot counts from its grant until its response arrived plus one window (the server stamps a
request somewhere in between), as in the process's own budget: each request's round trip (booking, request,
settling) is time the window is not used, so wall-time use stays below 100 % even when every window is full.
A settlement counts from the response, not from when its statement reached the database. Each instance opens
its database and server connections before the start, as a running bot has them.
"""

from __future__ import annotations

import asyncio

from bench.bench_postgres import fresh_schema, server_dsn
from bench.budget_instance import run_instances
from bot.emulator import EmulatorConfig, run_emulator
from storage.postgres import PostgresStore

LIMIT, WINDOW, INSTANCES, CALLERS = 30, 1.0, 3, 5
EACH = 5 * LIMIT * 2 // (INSTANCES * CALLERS)  # 5x oversubscription over two windows' worth of requests


async def run_async() -> list[dict[str, object]]:
    with server_dsn() as server:
        dsn = await fresh_schema(server, "bench_budget")
        async with PostgresStore(dsn):
            pass
        config = EmulatorConfig(token_rate=0, rate_limit=LIMIT, rate_window=WINDOW)
        async with run_emulator(config) as emu:
            reports = await run_instances(emu.base_url, emu.api_key, dsn, LIMIT, WINDOW, INSTANCES, CALLERS, EACH)
            rejected, busiest = emu.window.rejected, emu.window.max_in_window
    sent = sum(int(r["sent"]) for r in reports)
    elapsed = max(r["seconds"] for r in reports)
    used = sent / (LIMIT * (elapsed / WINDOW + 1))
    per_instance = ", ".join(f"{r['seconds']:.1f}" for r in reports)
    return [
        {
            "metric": f"{INSTANCES} instances, one key, 5x oversubscribed: 429s",
            "value": rejected,
            "unit": "429s",
            "note": f"{sent} requests on {LIMIT} per {WINDOW:g} s, shared through PostgreSQL",
        },
        {
            "metric": "capacity used across the instances",
            "value": used * 100,
            "unit": "%",
            "note": f"over {elapsed:.1f} s; each instance finished after {per_instance} s",
        },
        {
            "metric": "busiest window at the server",
            "value": busiest,
            "unit": "requests",
            "note": f"of {LIMIT} allowed per {WINDOW:g} s",
        },
    ]


def run() -> list[dict[str, object]]:
    """The benchmark's rows (see the module docstring)."""
    return asyncio.run(run_async())
