"""Fairness and throughput of the Discord write budget: many replies streaming at once share one budget.

Every simulated reply wants an edit as often as it can (it always has new text); the budget must keep the
total under its global rate, each DM under its edit interval, and serve every reply regularly. The first two
scenarios measure the scheduler alone (no per-DM window, as the figures were first taken); the third adds
Discord's per-DM window (5 writes per 5 s, sends and edits alike): each reply posts a new message every
fifth write, and no DM may see a sixth write within 5 s.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import time

from adapters.discord.writes import WriteBudget


async def _scenario(
    streams: int, interval: float, global_rate: float, seconds: float, *, dm_writes: int | None = None
) -> dict[str, float]:
    budget = WriteBudget(interval=interval, global_rate=global_rate, dm_writes=dm_writes)
    grants: dict[str, list[float]] = {f"dm-{i}": [] for i in range(streams)}
    started = time.monotonic()
    deadline = started + seconds

    async def reply(channel: str) -> None:
        for n in itertools.count():
            if time.monotonic() >= deadline:
                return
            sending = dm_writes is not None and n % 5 == 0  # a new message now and then: it counts too
            grant = await (budget.acquire_urgent(channel) if sending else budget.acquire(channel))
            grants[channel].append(time.monotonic())
            await asyncio.sleep(0)  # the request is on its way …
            budget.settle(grant)  # … and answered

    tasks = [asyncio.create_task(reply(c)) for c in grants]
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    budget.close()
    counts = [len(g) for g in grants.values()]
    total = sum(counts)
    jain = total**2 / (len(counts) * sum(c * c for c in counts)) if total else 0.0
    gaps = [b - a for g in grants.values() for a, b in itertools.pairwise(g)]
    in_window = [max(bisect.bisect_left(g, t + 5.0) - i for i, t in enumerate(g)) for g in grants.values() if g]
    return {
        "rate": total / seconds,
        "min": min(counts),
        "max": max(counts),
        "jain": jain,
        "max_gap": max(gaps) if gaps else float("inf"),
        "min_gap": min(gaps) if gaps else 0.0,
        "most_in_5s": max(in_window),
    }


async def run() -> list[dict[str, object]]:
    """A few replies (limited by the edit interval), many (by the global rate), and Discord's per-DM window."""
    rows: list[dict[str, object]] = []
    scenarios: list[tuple[int, float, float, float, int | None]] = [
        (10, 0.25, 40.0, 2.0, None),
        (100, 1.0, 40.0, 5.0, None),
        (20, 1.0, 40.0, 12.0, 5),
    ]
    for streams, interval, rate, seconds, dm_writes in scenarios:
        r = await _scenario(streams, interval, rate, seconds, dm_writes=dm_writes)
        label = f"{streams} replies, {interval:g} s interval, {rate:g}/s global"
        if dm_writes is not None:
            label += f", {dm_writes} writes/5 s per DM"
        rows += [
            {"metric": "writes/s (all replies)", "value": r["rate"], "unit": "1/s", "note": label + " (+ burst)"},
            {
                "metric": "writes per reply min..max",
                "value": f"{r['min']:.0f}..{r['max']:.0f}",
                "unit": "writes",
                "note": f"over {seconds:g} s",
            },
            {"metric": "Jain fairness index", "value": r["jain"], "unit": "", "note": "1.0 = perfectly even"},
            {
                "metric": "longest wait between writes",
                "value": r["max_gap"],
                "unit": "s",
                "note": f"shortest {r['min_gap']:.3f} s",
            },
        ]
        if dm_writes is not None:
            rows.append(
                {"metric": "most writes in one DM within 5 s", "value": r["most_in_5s"], "unit": "count", "note": "≤ 5"}
            )
    return rows
