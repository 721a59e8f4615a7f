"""The core end to end (bridge + SQLite + API client + built-in server on loopback, no platform).

- Turn latency (respondent message handed to the bridge → reply finished in the adapter) for one conversation
  alone vs 50 conversations talking at once, side by side. Bot and server share the process and its CPU, so
  the 50 are CPU-bound (a profile puts most of the time in httpx/h11, not in the core); what matters for
  fairness is the spread: p95 close to p50 means no conversation starves.
- Throughput of turns with 50 concurrent conversations.
- Memory the core keeps per active, idle interview (tracemalloc, after every conversation has started):
  locks and workers are released when idle, so this should be near zero.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from bot.api.client import InterviewClient
from bot.core.bridge import Bridge
from bot.core.events import RespondentInfo, Start, UserText
from bot.core.keys import ConversationKey
from bot.core.policy import BridgeConfig
from bot.core.ports import Notice, PendingQuestion
from bot.emulator import EmulatorConfig, run_emulator
from storage.sqlite import SQLiteStore

CONCURRENT = 50
TURNS = 4


class _Reply:
    def __init__(self, done: asyncio.Event) -> None:
        self._done = done

    async def status(self, text: str) -> None:
        return None

    async def append(self, text: str) -> None:
        return None

    async def finish(self, text: str, question: PendingQuestion | None) -> None:
        self._done.set()

    async def fail(self, text_so_far: str, notice: Notice) -> None:
        self._done.set()


class _Adapter:
    """A platform that shows nothing and takes no time: what remains is the core's own cost."""

    platform = "bench"
    update_interval = 0.0

    def __init__(self) -> None:
        self.done: dict[str, asyncio.Event] = {}

    async def begin_reply(self, key: ConversationKey, locale: str | None = None) -> _Reply:
        return _Reply(self.done.setdefault(key.user, asyncio.Event()))

    async def show_question(self, key: ConversationKey, pending: PendingQuestion) -> None:
        return None

    async def notify(self, key: ConversationKey, notice: Notice) -> None:
        return None


async def _conversation(bridge: Bridge, adapter: _Adapter, user: str, latencies: list[float]) -> None:
    key = ConversationKey("bench", "w", f"dm-{user}", user)
    who = RespondentInfo(external_id=user)
    await bridge.handle(Start(key, who))
    for turn in range(TURNS):
        done = adapter.done.setdefault(user, asyncio.Event())
        done.clear()
        started = time.perf_counter()
        await bridge.handle(UserText(key, f"answer {turn}: the channels were a lot to take in at first", who))
        await done.wait()
        latencies.append(time.perf_counter() - started)
        await bridge.wait_until_idle(key)


async def _round(client: InterviewClient, folder: Path, name: str, conversations: int) -> tuple[list[float], float]:
    store = SQLiteStore(folder / f"{name}.db")
    await store.open()
    adapter = _Adapter()
    bridge = Bridge(client, store, BridgeConfig())
    bridge.register(adapter)
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(_conversation(bridge, adapter, f"{name}{i}", latencies) for i in range(conversations)))
    elapsed = time.perf_counter() - started
    await bridge.stop()
    await store.close()
    return latencies, elapsed


async def _memory_per_interview(client: InterviewClient, folder: Path, count: int) -> float:
    store = SQLiteStore(folder / "memory.db")
    await store.open()
    adapter = _Adapter()
    bridge = Bridge(client, store, BridgeConfig())
    bridge.register(adapter)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for i in range(count):
        await bridge.handle(Start(ConversationKey("bench", "w", f"m{i}", f"m{i}"), RespondentInfo(external_id=f"m{i}")))
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(
        stat.size_diff
        for stat in after.compare_to(before, "filename")
        if "/bot/" in str(stat.traceback) or "/storage/" in str(stat.traceback)
    )
    await store.close()
    return grown / count


def _ms(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else values[0] * 1000


async def run() -> list[dict[str, object]]:
    """Rows for the bench table."""
    config = EmulatorConfig(token_rate=0, rate_limit=1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        async with (
            run_emulator(config) as emu,
            InterviewClient(emu.base_url, emu.api_key) as client,
        ):
            alone, _ = await _round(client, folder, "alone", 1)
            crowd, elapsed = await _round(client, folder, "crowd", CONCURRENT)
            per_interview = await _memory_per_interview(client, folder, 200)
    p50_alone, p50_crowd = statistics.median(alone) * 1000, statistics.median(crowd) * 1000
    return [
        {"metric": "turn latency, 1 conversation, p50", "value": p50_alone, "unit": "ms"},
        {
            "metric": f"turn latency, {CONCURRENT} at once, p50",
            "value": p50_crowd,
            "unit": "ms",
            "note": f"{p50_crowd / p50_alone:.1f}x the lone conversation; p95 {_ms(crowd, 95):.1f} ms",
        },
        {
            "metric": f"turns per second, {CONCURRENT} conversations",
            "value": len(crowd) / elapsed,
            "unit": "turn/s",
            "note": "bridge + SQLite + HTTP + built-in server on 2 cores",
        },
        {
            "metric": "core memory per idle active interview",
            "value": per_interview,
            "unit": "B",
            "note": "tracemalloc over 200 started interviews (bot/ and storage/ allocations)",
        },
    ]
