"""The interview API client against the built-in server: the shared budget under load, turn latency, recovery.

- Budget at 5x oversubscription: 150 GETs from 15 conversations against 30 requests per 1 s window (the 60/min
  budget scaled down so it runs in seconds). Reports the share of the capacity used (in wall time, and in the
  budget's own windows where time in flight is not counted — see docs/api-wire-format.md), the 429s the callers saw
  and the server refused, and the fairness: how long a conversation with one request waited while another had
  twenty queued.
- One turn over loopback HTTP (SSE, server streaming as fast as it can): p50 / p95.
- A reply stream cut mid-way and recovered from ``GET /interviews/:id``: p50 of the whole turn.
- The budget's own cost per uncontended ``acquire``.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time

from bot.api.client import InterviewClient
from bot.core.request_budget import RequestBudget, reuse_delays
from bot.emulator import EmulatorConfig, run_emulator

LIMIT, WINDOW, CALLERS, PER_CALLER = 30, 1.0, 15, 10
TURNS = 60


async def _budget_rows() -> list[dict[str, object]]:
    config = EmulatorConfig(token_rate=0, rate_limit=LIMIT, rate_window=WINDOW)
    budget = RequestBudget(LIMIT, WINDOW, keep_history=True)
    async with (
        run_emulator(config) as emu,
        InterviewClient(emu.base_url, emu.api_key, budget=budget, backoff_base=0.01) as client,
    ):
        started = await client.start()
        await asyncio.sleep(WINDOW + 0.05)
        assert budget.history is not None
        budget.history.clear()
        rejected_before = emu.window.rejected
        limited = 0

        async def conversation(name: str, requests: int) -> float:
            nonlocal limited
            waited = 0.0
            for _ in range(requests):
                begin = time.monotonic()
                try:
                    await client.get(started.interview_id, caller=name)
                except Exception:
                    limited += 1
                waited = max(waited, time.monotonic() - begin)
            return waited

        begin = time.monotonic()
        await asyncio.gather(*(conversation(f"c{i}", PER_CALLER) for i in range(CALLERS)))
        elapsed = time.monotonic() - begin
        total = CALLERS * PER_CALLER
        used = total / (LIMIT * (elapsed / WINDOW + 1))
        delays = reuse_delays(budget.history, LIMIT, WINDOW)
        in_flight = [s.settled_at - s.granted_at for s in budget.history if s.settled_at is not None]

        await asyncio.sleep(WINDOW + 0.05)
        heavy = [asyncio.create_task(conversation("heavy", 1)) for _ in range(3 * LIMIT)]
        await asyncio.sleep(0.05)
        light_wait = await conversation("light", 1)
        heavy_wait = max(await asyncio.gather(*heavy))
    return [
        {
            "metric": "budget used at 5x oversubscription (wall time)",
            "value": used * 100,
            "unit": "%",
            "note": f"{total} requests, {LIMIT}/{WINDOW:g}s, {elapsed:.2f}s",
        },
        {
            "metric": "budget used at 5x, in budget windows",
            "value": WINDOW / (WINDOW + statistics.mean(delays)) * 100,
            "unit": "%",
            "note": f"worst hand-over {max(delays) * 1000:.0f} ms; time in flight not counted",
        },
        {
            "metric": "request time in flight, p50",
            "value": statistics.median(in_flight) * 1000,
            "unit": "ms",
            "note": "stretches every window by as much",
        },
        {"metric": "429s seen by callers", "value": limited, "unit": "count"},
        {"metric": "429s the server had to send", "value": emu.window.rejected - rejected_before, "unit": "count"},
        {
            "metric": "most requests in one server window",
            "value": emu.window.max_in_window,
            "unit": "count",
            "note": f"limit {LIMIT}",
        },
        {
            "metric": "wait of 1 request behind 90 of another",
            "value": light_wait,
            "unit": "s",
            "note": f"round-robin; the 90th waited {heavy_wait:.2f}s",
        },
    ]


async def _turn_rows() -> list[dict[str, object]]:
    config = EmulatorConfig(token_rate=0, rate_limit=10_000)
    async with (
        run_emulator(config) as emu,
        InterviewClient(emu.base_url, emu.api_key, budget=RequestBudget(10_000, 60.0)) as client,
    ):
        plain: list[float] = []
        recovered: list[float] = []
        for turn in range(TURNS):
            started = await client.start()
            emu.faults.cut_stream_after_chars = 20 if turn % 2 else None
            begin = time.perf_counter()
            async for _ in client.send(started.interview_id, started.session_token, "It was a bit overwhelming"):
                pass
            (recovered if turn % 2 else plain).append((time.perf_counter() - begin) * 1000)
    plain.sort()
    return [
        {"metric": "turn over loopback SSE, p50", "value": statistics.median(plain), "unit": "ms"},
        {"metric": "turn over loopback SSE, p95", "value": plain[int(len(plain) * 0.95) - 1], "unit": "ms"},
        {
            "metric": "turn with cut stream + recovery, p50",
            "value": statistics.median(recovered),
            "unit": "ms",
            "note": "includes the GET",
        },
    ]


async def _acquire_rows() -> list[dict[str, object]]:
    budget = RequestBudget(10**9, 60.0)
    count = 20_000
    begin = time.perf_counter()
    for i in range(count):
        await budget.acquire(f"c{i % 50}")
        if i % 1000 == 999:
            budget.window_limit.slots.clear()  # keep the window small: measure the queue, not the list
    per = (time.perf_counter() - begin) / count * 1e6
    return [{"metric": "uncontended acquire", "value": per, "unit": "µs"}]


async def _run() -> list[dict[str, object]]:
    return [*await _budget_rows(), *await _turn_rows(), *await _acquire_rows()]


def run() -> list[dict[str, object]]:
    """Rows for ``python -m bench``."""
    logging.getLogger("bot.api").setLevel(logging.ERROR)  # the cut streams are on purpose
    return asyncio.run(_run())
