"""The Slack workspace budget: fairness across conversations and per-call overhead.

Virtual time (no sleeping): 50 conversations each need 20 ``chat.update`` calls (Slack's Tier 3, 50 a minute per
workspace), plus one "hungry" conversation queuing 200. The figures: calls per minute actually granted (the
tier), Jain's fairness index of the grants over the first 10 minutes (1.0 = perfectly even), and how many calls
the hungry conversation got meanwhile compared with an even share. Then the real cost of one decision.
"""

from __future__ import annotations

import asyncio
import time

from adapters.slack.budget import MethodBucket

CONVERSATIONS = 50
CALLS_EACH = 20
HUNGRY_CALLS = 200
PER_MINUTE = 50.0


def _jain(values: list[int]) -> float:
    total = sum(values)
    squares = sum(v * v for v in values)
    return (total * total) / (len(values) * squares) if squares else 1.0


def _simulate() -> tuple[float, float, int, float]:
    """(granted per minute over the whole run, Jain index over 10 min, hungry's grants in 10 min, even share)."""
    loop = asyncio.new_event_loop()
    try:
        bucket = MethodBucket(PER_MINUTE, now=0.0)
        order: list[str] = []
        names = ["hungry", *(f"c{c}" for c in range(CONVERSATIONS))]  # the hungry one queues first
        for name in names:
            for _ in range(HUNGRY_CALLS if name == "hungry" else CALLS_EACH):
                fut: asyncio.Future[None] = loop.create_future()
                fut.add_done_callback(lambda _f, n=name: order.append(n))
                bucket.enqueue(name, fut)
        now, in_window = 0.0, 0
        while (delay := bucket.pump(now)) is not None:
            loop.run_until_complete(asyncio.sleep(0))  # run the done callbacks
            if now <= 600.0:
                in_window = len(order)
            now += delay
        loop.run_until_complete(asyncio.sleep(0))
        total = len(order)
        first = order[:in_window]
        counts = [first.count(name) for name in names]
        return total / (now / 60.0), _jain(counts), first.count("hungry"), in_window / len(names)
    finally:
        loop.close()


def _overhead() -> float:
    bucket = MethodBucket(6000.0, now=0.0)
    n = 200_000
    started = time.perf_counter()
    for i in range(n):
        bucket.try_take(f"c{i % 1000}", i * 0.001)
    return (time.perf_counter() - started) / n * 1e6


def run() -> list[dict[str, object]]:
    """The rows for ``python -m bench slack_budget``."""
    per_minute, jain, hungry, share = _simulate()
    return [
        {
            "metric": "chat.update granted per minute (tier 50)",
            "value": per_minute,
            "unit": "calls/min",
            "note": f"{CONVERSATIONS} conversations + 1 hungry, virtual time",
        },
        {"metric": "fairness over the first 10 min (Jain)", "value": jain, "unit": "index", "note": "1.0 = even"},
        {
            "metric": "hungry conversation's grants in 10 min",
            "value": hungry,
            "unit": "calls",
            "note": f"even share {share:.1f}",
        },
        {"metric": "try_acquire decision cost", "value": _overhead(), "unit": "µs/call", "note": "1,000 conversations"},
    ]
