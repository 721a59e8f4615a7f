"""Fairness and throughput of the Discord edit budget: many replies streaming at once share one budget.

Every simulated reply wants an edit as often as it can (it always has new text); the budget must keep the
total under its global rate, each channel under its interval, and serve every reply regularly.
"""

from __future__ import annotations

import asyncio
import itertools
import time

from adapters.discord.writes import WriteBudget


async def _scenario(streams: int, interval: float, global_rate: float, seconds: float) -> dict[str, float]:
    budget = WriteBudget(interval=interval, global_rate=global_rate)
    grants: dict[str, list[float]] = {f"dm-{i}": [] for i in range(streams)}
    started = time.monotonic()
    deadline = started + seconds

    async def reply(channel: str) -> None:
        while time.monotonic() < deadline:
            await budget.acquire(channel)
            grants[channel].append(time.monotonic())

    tasks = [asyncio.create_task(reply(c)) for c in grants]
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    counts = [len(g) for g in grants.values()]
    total = sum(counts)
    jain = total**2 / (len(counts) * sum(c * c for c in counts)) if total else 0.0
    gaps = [b - a for g in grants.values() for a, b in itertools.pairwise(g)]
    return {
        "rate": total / seconds,
        "min": min(counts),
        "max": max(counts),
        "jain": jain,
        "max_gap": max(gaps) if gaps else float("inf"),
        "min_gap": min(gaps) if gaps else 0.0,
    }


async def run() -> list[dict[str, object]]:
    """Two scenarios: a few replies (limited by the per-DM interval), many (limited by the global rate)."""
    rows: list[dict[str, object]] = []
    for streams, interval, rate, seconds in ((10, 0.25, 40.0, 2.0), (100, 1.0, 40.0, 5.0)):
        r = await _scenario(streams, interval, rate, seconds)
        label = f"{streams} replies, {interval:g} s interval, {rate:g}/s global"
        rows += [
            {"metric": "edits/s (all replies)", "value": r["rate"], "unit": "1/s", "note": label + " (+ burst)"},
            {
                "metric": "edits per reply min..max",
                "value": f"{r['min']:.0f}..{r['max']:.0f}",
                "unit": "edits",
                "note": f"over {seconds:g} s",
            },
            {"metric": "Jain fairness index", "value": r["jain"], "unit": "", "note": "1.0 = perfectly even"},
            {
                "metric": "longest wait between edits",
                "value": r["max_gap"],
                "unit": "s",
                "note": f"shortest {r['min_gap']:.3f} s (≥ interval)",
            },
        ]
    return rows
