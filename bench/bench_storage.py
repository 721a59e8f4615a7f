"""Storage: lookups and the inactivity sweep with 1k stored interviews vs 1M, side by side, in one run.

The claim: one million stored interviews do not slow lookups or the sweep (they are index searches). The same
database is measured at 1,000 interviews, then grown to ``BENCH_INTERVIEWS`` (default 1,000,000) in one
``executemany`` transaction and measured again; the note of each full-size row gives the ratio to 1k. The plain
rows are what the bot sees (``SQLiteStore`` calls, aiosqlite thread hop included, which dominates); the
``sqlite-only`` rows run the store's exact SQL on a plain sqlite3 connection, the engine's share alone.
``BENCH_INTERVIEWS=100000 python -m bench storage`` runs it smaller.

The data looks like a long-running deployment: three interviews per conversation, about 2 % of them still
active (the rest completed), and the same ~20 active interviews overdue at both sizes, so the sweep returns the
same rows at 1k and at 1M.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from bot.core.keys import ConversationKey
from bot.core.store import InterviewRecord, RecordStatus
from storage.sqlite import CACHE_KIB, MMAP_BYTES, SQLiteStore
from storage.sqlite_rows import QUERIES

SMALL = 1_000
NOW = 1_800_000_000.0  # "now" of the sweep
SAMPLES = 1_000  # calls per round for each lookup metric
SWEEP_SAMPLES = 300
TURN_SAMPLES = 200
ROUNDS = 3
WARMUP = 200


def size() -> int:
    """How many interviews to grow to (``BENCH_INTERVIEWS``, default 1,000,000)."""
    return max(SMALL * 2, int(os.environ.get("BENCH_INTERVIEWS", "1000000")))


def is_active(n: int) -> bool:
    """Interview ``n`` is active: the last of its conversation's three, in one conversation of 16."""
    return n % 3 == 2 and (n // 3) % 16 == 0


def key(n: int) -> ConversationKey:
    """Three consecutive interviews share a conversation (one respondent's DM)."""
    group = n // 3
    return ConversationKey("slack" if group % 2 else "discord", f"T{group % 50}", f"D{group}", f"U{group}")


def record(n: int) -> InterviewRecord:
    """Interview ``n``; the active ones among the first 1,000 are overdue, the later ones are not yet."""
    created = NOW - 86_400 * 30 + n
    active = is_active(n)
    nudge = (NOW - 60 if n < SMALL else NOW + 3_600 + n) if active else None
    return InterviewRecord(
        key=key(n),
        interview_id=f"iv-{n:08d}",
        session_token=f"sess_{n:08d}_0123456789abcdef",
        status=RecordStatus.ACTIVE if active else RecordStatus.COMPLETED,
        study="bench",
        created_at=created,
        updated_at=created,
        last_activity_at=created,
        nudge_at=nudge,
        expires_at=None if nudge is None else nudge + 300,
        turns_sent=n % 12,
        completion_reason=None if active else "natural",
        completed_at=None if active else created + 900,
        platform_state={"channel": key(n).channel},
    )


def records(start: int, stop: int) -> Iterator[InterviewRecord]:
    """Interviews ``start`` … ``stop - 1``, generated lazily (one million never sit in memory)."""
    return (record(n) for n in range(start, stop))


def percentile(sorted_ns: list[int], fraction: float) -> float:
    """The value at ``fraction`` of a sorted sample, in µs."""
    return sorted_ns[min(len(sorted_ns) - 1, int(fraction * len(sorted_ns)))] / 1000


def summarize(rounds: list[list[int]]) -> tuple[float, float]:
    """(p50 of the quietest round, p99 over every call) in µs: other processes share the CPU."""
    every = sorted(d for durations in rounds for d in durations)
    return min(percentile(sorted(r), 0.50) for r in rounds), percentile(every, 0.99)


async def timed(call: Callable[[int], Awaitable[object]], picks: list[int]) -> tuple[float, float]:
    """(p50, p99) in µs of ``await call(pick)``: a warm-up pass, then ``ROUNDS`` rounds over the picks."""
    for pick in picks[:WARMUP]:
        await call(pick)
    rounds: list[list[int]] = []
    for _ in range(ROUNDS):
        durations: list[int] = []
        for pick in picks:
            started = time.perf_counter_ns()
            await call(pick)
            durations.append(time.perf_counter_ns() - started)
        rounds.append(durations)
    return summarize(rounds)


def timed_plain(call: Callable[[int], object], picks: list[int]) -> tuple[float, float]:
    """:func:`timed` for a plain function."""
    for pick in picks[:WARMUP]:
        call(pick)
    rounds: list[list[int]] = []
    for _ in range(ROUNDS):
        durations: list[int] = []
        for pick in picks:
            started = time.perf_counter_ns()
            call(pick)
            durations.append(time.perf_counter_ns() - started)
        rounds.append(durations)
    return summarize(rounds)


def pick_interviews(stored: int, rng: random.Random) -> tuple[list[int], list[int]]:
    """Random interviews among the stored ones: any, and active ones."""
    any_n = [rng.randrange(stored) for _ in range(SAMPLES)]
    active_n = [n for n in (rng.randrange(stored) for _ in range(SAMPLES * 100)) if is_active(n)][:SAMPLES]
    return any_n, active_n


async def measure(store: SQLiteStore, stored: int, rng: random.Random) -> dict[str, tuple[float, float]]:
    """p50/p99 of each store operation with ``stored`` interviews in the database."""
    any_n, active_n = pick_interviews(stored, rng)

    async def get(n: int) -> None:
        assert await store.get_interview(f"iv-{n:08d}") is not None

    async def active(n: int) -> None:
        assert await store.active_interview(key(n)) is not None

    async def latest(n: int) -> None:
        assert await store.latest_interview(key(n)) is not None

    async def of_user(n: int) -> None:
        k = key(n)
        assert await store.interviews_of_user(k.platform, k.user)

    async def sweep(_: int) -> None:
        assert len(await store.due_interviews(NOW, limit=100)) == DUE

    async def turn(n: int) -> None:
        iid = f"iv-{n:08d}"
        await store.enqueue_message(iid, "a respondent message", NOW)
        begun = await store.begin_turn(iid, NOW)
        assert begun is not None
        await store.finish_turn(begun.id, "the interviewer's reply", NOW)

    return {
        "get_interview": await timed(get, any_n),
        "active_interview": await timed(active, active_n),
        "latest_interview": await timed(latest, any_n),
        "interviews_of_user": await timed(of_user, any_n),
        "due_interviews": await timed(sweep, list(range(SWEEP_SAMPLES))),
        "turn": await timed(turn, active_n[:TURN_SAMPLES]),
    }


def measure_sql(path: Path, stored: int, rng: random.Random) -> dict[str, tuple[float, float]]:
    """The same lookups as plain sqlite3 calls on the store's SQL: the engine's share, without the thread hop."""
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    any_n, active_n = pick_interviews(stored, rng)

    def query(name: str, params: Callable[[int], tuple[object, ...]]) -> Callable[[int], list[object]]:
        sql = QUERIES[name]
        return lambda n: conn.execute(sql, params(n)).fetchall()

    def key_params(n: int) -> tuple[object, ...]:
        k = key(n)
        return (k.platform, k.workspace, k.channel, k.user)

    try:
        return {
            "get_interview": timed_plain(query("get_interview", lambda n: (f"iv-{n:08d}",)), any_n),
            "active_interview": timed_plain(query("active_interview", key_params), active_n),
            "latest_interview": timed_plain(query("latest_interview", key_params), any_n),
            "interviews_of_user": timed_plain(
                query("interviews_of_user", lambda n: (key(n).platform, key(n).user, 20)), any_n
            ),
            "due_interviews": timed_plain(query("due_interviews", lambda n: (NOW, 100)), list(range(SWEEP_SAMPLES))),
        }
    finally:
        conn.close()


def files_size(folder: Path) -> int:
    """Bytes of every file in ``folder``."""
    return sum(p.stat().st_size for p in folder.iterdir())


DUE = sum(is_active(n) for n in range(SMALL))
"""Interviews the sweep finds overdue, at every size."""

WHAT = {
    "get_interview": "by interview id",
    "active_interview": "open interview of a conversation key",
    "latest_interview": "newest interview of a conversation key",
    "interviews_of_user": "a user's interviews, newest first",
    "due_interviews": f"the inactivity sweep ({DUE} due, limit 100)",
    "turn": "enqueue_message + begin_turn + finish_turn (3 commits)",
}


def rows_for(
    layer: str, small: dict[str, tuple[float, float]], big: dict[str, tuple[float, float]], total: int
) -> list[dict[str, object]]:
    """Two rows per operation: p50 at 1k, then p50 at the full size with the ratio; p99s in the notes."""
    label = f"{total // 1000:,}k" if total < 1_000_000 else f"{total / 1_000_000:g}M"
    out: list[dict[str, object]] = []
    for name, (p50_small, p99_small) in small.items():
        p50_big, p99_big = big[name]
        ratios = f"p50 ratio {p50_big / p50_small:.2f}x, p99 ratio {p99_big / p99_small:.2f}x"
        out.append(
            {
                "metric": f"{layer}{name} p50 @1k",
                "value": p50_small,
                "unit": "µs",
                "note": f"p99 {p99_small:.0f} µs; {WHAT[name]}",
            }
        )
        out.append(
            {
                "metric": f"{layer}{name} p50 @{label}",
                "value": p50_big,
                "unit": "µs",
                "note": f"p99 {p99_big:.0f} µs; {ratios}",
            }
        )
    return out


async def run_async() -> list[dict[str, object]]:
    """Populate, measure at 1k and at the full size, and return the rows of the table."""
    total = size()
    rng = random.Random(42)
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        path = Path(tmp) / "bench.db"
        async with SQLiteStore(path) as store:
            await store.bulk_create_interviews(records(0, SMALL))
            await measure(store, SMALL, rng)  # warms up the process (and the CPU's clock) before anything counts
            small = await measure(store, SMALL, rng)
            small_sql = measure_sql(path, SMALL, rng)

            started = time.perf_counter()
            await store.bulk_create_interviews(records(SMALL, total))
            populate_s = time.perf_counter() - started
            big = await measure(store, total, rng)
            big_sql = measure_sql(path, total, rng)
        db_bytes = files_size(Path(tmp))

    return [
        {
            "metric": f"populate {total - SMALL:,} interviews",
            "value": populate_s,
            "unit": "s",
            "note": f"one executemany transaction, {(total - SMALL) / populate_s:,.0f} rows/s, every index in place",
        },
        {"metric": f"database size at {total:,}", "value": db_bytes / 1e6, "unit": "MB", "note": "file + WAL"},
        *rows_for("", small, big, total),
        *rows_for("sqlite-only ", small_sql, big_sql, total),
    ]


def run() -> list[dict[str, object]]:
    """The benchmark's rows (see the module docstring)."""
    return asyncio.run(run_async())
