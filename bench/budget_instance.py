"""One bot instance's API traffic, for the cross-process budget (``python -m bench.budget_instance``).

Arguments: base URL, API key, database URL, limit, window (s), callers, requests per caller. It starts one
interview and prints ``ready``; after a line on stdin (every instance starts at once) its callers each read the
interview ``requests`` times through one client whose budget shares the key's window through the database. It
prints one JSON line: requests sent, 429s seen, seconds taken.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import asyncpg

from bot.api.client import InterviewClient
from bot.api.errors import RateLimited
from bot.core.request_budget import RequestBudget
from storage.pg_budget import PostgresRequestWindow

ROOT = Path(__file__).resolve().parents[1]


async def main(base_url: str, api_key: str, dsn: str, limit: int, window: float, callers: int, each: int) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=4, max_size=4)  # connected before the start, as in a running bot
    budget = RequestBudget(limit, window)
    budget.shared = PostgresRequestWindow(pool, "bench-key", limit, window)
    limited = 0
    try:
        async with InterviewClient(base_url, api_key, budget=budget, backoff_base=0.01, max_retries=0) as client:
            interview = await client.start()
            # a running bot's connections to the server are open: one per caller, before the start
            await asyncio.gather(*(client.get(interview.interview_id, caller=f"c{n}") for n in range(callers)))
            print("ready", flush=True)
            await asyncio.to_thread(sys.stdin.readline)
            begin = time.monotonic()

            async def caller(name: str) -> None:
                nonlocal limited
                for _ in range(each):
                    try:
                        await client.get(interview.interview_id, caller=name)
                    except RateLimited:
                        limited += 1

            await asyncio.gather(*(caller(f"c{n}") for n in range(callers)))
            took = time.monotonic() - begin
    finally:
        await pool.close()
    print(json.dumps({"sent": callers * each, "limited": limited, "seconds": took}), flush=True)


async def run_instances(
    base_url: str,
    api_key: str,
    dsn: str,
    limit: int,
    window: float,
    instances: int,
    callers: int,
    each: int,
    *,
    root: Path = ROOT,
) -> list[dict[str, float]]:
    """Start ``instances`` processes of this module (of the checkout at ``root``), let them go at once, and return
    their reports."""
    args = (base_url, api_key, dsn, str(limit), str(window), str(callers), str(each))
    pipes = {"stdin": asyncio.subprocess.PIPE, "stdout": asyncio.subprocess.PIPE}
    children = [
        await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.budget_instance", *args, cwd=root, **pipes)
        for _ in range(instances)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            line = await asyncio.wait_for(child.stdout.readline(), 60)
            if line != b"ready\n":
                raise RuntimeError(f"an instance did not start: {line!r}")
        await asyncio.sleep(window + 0.3)  # the start requests leave the window
        for child in children:
            assert child.stdin is not None
            child.stdin.write(b"go\n")
            await child.stdin.drain()
        reports = []
        for child in children:
            out, _ = await asyncio.wait_for(child.communicate(), 300)
            if child.returncode != 0:
                raise RuntimeError(f"an instance failed with status {child.returncode}")
            reports.append(json.loads(out.decode().strip().splitlines()[-1]))
        return reports
    finally:
        for child in children:
            if child.returncode is None:
                child.kill()
                await child.wait()


if __name__ == "__main__":
    url, key, dsn, limit, window, callers, each = sys.argv[1:8]
    asyncio.run(main(url, key, dsn, int(limit), float(window), int(callers), int(each)))
