"""One API budget across instances: 3 processes on one key at 5x oversubscription or more, through PostgreSQL.

Each process runs the bot's API client with its own fair budget, sharing the key's window through the database
(``storage/pg_budget.py``); 5 callers per process each send their requests one after another, as fast as the
budget lets them. Two scales of the key's window, both at 30 requests per window:

* **1 s** (the 60/min budget scaled down 30-fold so it runs in seconds): 300 requests, 10 windows' worth. Every
  slot is used again 30 times a minute here, so what each reuse costs (the time between a slot freeing and the
  next request reaching the server) weighs 60 times more than at the real scale;
* **10 s**: 150 requests, 5 windows' worth, at a pace of reuse closer to the real key's (60 s).

Reported per scale: the 429s the server answered; the share of the capacity used over the run
(requests / (limit × (windows elapsed + 1))), with each instance's finishing time (they share fairly when these
are close) and the busiest window the server saw; and what each reuse of a slot cost, seen at the server: the
time from when the server would have taken one more request (the request ``limit`` before had left its window)
to when the next one arrived. A slot counts from its booking until its response arrived plus
one window (the server stamps a request somewhere in between), as in the process's own budget: each request's
trip to the server and back is time its slot is not used, so wall-time use stays below 100 % even when every
window is full. Each instance opens its database and server connections before the start.

``BENCH_BUDGET_BASELINE=/path/to/another/checkout`` runs the same scenarios with that checkout's instances too
(e.g. an older commit: ``git archive <commit> | tar -x -C /tmp/old``), on the same server and database, and puts
its rows next to this checkout's.
"""

from __future__ import annotations

import asyncio
import os
import statistics
from pathlib import Path

from bench.bench_postgres import fresh_schema, server_dsn
from bench.budget_instance import ROOT, run_instances
from bot.emulator import EmulatorConfig, run_emulator
from storage.postgres import PostgresStore

INSTANCES, CALLERS, LIMIT = 3, 5, 30
SCALES = ((1.0, 10 * LIMIT), (10.0, 5 * LIMIT))
"""(window in seconds, requests sent by all the instances together)."""


async def scenario(server: str, root: Path, window: float, requests: int) -> dict[str, float | str]:
    """One run: ``requests`` requests on ``LIMIT`` per ``window`` s by the instances of the checkout at ``root``."""
    dsn = await fresh_schema(server, "bench_budget")
    async with PostgresStore(dsn):
        pass
    each = requests // (INSTANCES * CALLERS)
    config = EmulatorConfig(token_rate=0, rate_limit=LIMIT, rate_window=window)
    async with run_emulator(config) as emu:
        emu.window.history = hits = []
        reports = await run_instances(
            emu.base_url, emu.api_key, dsn, LIMIT, window, INSTANCES, CALLERS, each, root=root
        )
        rejected, busiest = emu.window.rejected, emu.window.max_in_window
    sent = sum(int(r["sent"]) for r in reports)
    elapsed = max(r["seconds"] for r in reports)
    measured = hits[-sent:]  # after the instances' start-up requests
    # how long each slot stayed unused at the server: from when the server would have taken the next request
    # (the request `LIMIT` before it left the window) to when the next one came
    idle = sorted(measured[j] - measured[j - LIMIT] - window for j in range(LIMIT, len(measured)))
    return {
        "sent": sent,
        "rejected": rejected,
        "busiest": busiest,
        "elapsed": elapsed,
        "used": 100 * sent / (LIMIT * (elapsed / window + 1)),
        "idle": 1000 * statistics.mean(idle),
        "idle_median": 1000 * statistics.median(idle),
        "finished": ", ".join(f"{r['seconds']:.1f}" for r in sorted(reports, key=lambda r: r["seconds"])),
    }


def rows(label: str, window: float, figures: dict[str, float | str]) -> list[dict[str, object]]:
    """The two rows of one scenario."""
    scale = f"{LIMIT} per {window:g} s"
    return [
        {
            "metric": f"{label}{INSTANCES} instances on {scale}: 429s",
            "value": figures["rejected"],
            "unit": "429s",
            "note": f"{figures['sent']} requests asked at once by {INSTANCES * CALLERS} callers; busiest window "
            f"{figures['busiest']} of {LIMIT}",
        },
        {
            "metric": f"{label}{INSTANCES} instances on {scale}: capacity used",
            "value": figures["used"],
            "unit": "%",
            "note": f"over {figures['elapsed']:.1f} s; the instances finished after {figures['finished']} s",
        },
        {
            "metric": f"{label}{INSTANCES} instances on {scale}: a freed slot's idle time",
            "value": figures["idle"],
            "unit": "ms",
            "note": f"mean (median {figures['idle_median']:.1f} ms) from a slot freeing at the server to its next "
            "request",
        },
    ]


async def run_async() -> list[dict[str, object]]:
    baseline = os.environ.get("BENCH_BUDGET_BASELINE")
    checkouts = [("", ROOT)] + ([(f"baseline {Path(baseline).name}: ", Path(baseline))] if baseline else [])
    result: list[dict[str, object]] = []
    with server_dsn() as server:
        for window, requests in SCALES:
            for label, root in checkouts:  # side by side, one after the other on the same server
                result += rows(label, window, await scenario(server, root, window, requests))
    return result


def run() -> list[dict[str, object]]:
    """The benchmark's rows (see the module docstring)."""
    return asyncio.run(run_async())
