"""PostgreSQL vs SQLite: the same lookups, sweep and turn at scale, and ``migrate-store`` at 100k interviews.

The data and the operations are those of ``bench_storage`` (three interviews per conversation, ~2 % active, the
same ~20 overdue at every size). Both backends are filled to ``BENCH_PG_INTERVIEWS`` (default 1,000,000, about
3 minutes on the shared 2-core machine this was written on; ``BENCH_PG_INTERVIEWS=300000`` for a quicker run)
and measured side by side. The PostgreSQL figures include a network round trip per
statement over 127.0.0.1 (SQLite's include aiosqlite's thread hop); the server is a throwaway one started from
the machine's binaries with ``fsync=off`` (as in the tests), or the one named by ``BENCH_DATABASE_URL``.

``migrate-store`` moves ``BENCH_MIGRATE_INTERVIEWS`` (default 100,000) interviews from an SQLite file to
PostgreSQL and back, and checks that the file that comes back holds the same rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg

from bench.bench_storage import DUE, SMALL, WHAT, measure, records
from storage.postgres import PostgresStore
from storage.sqlite import SQLiteStore
from storage.transfer import TABLES, copy_store


def size() -> int:
    """How many interviews each backend is filled to."""
    return max(SMALL * 2, int(os.environ.get("BENCH_PG_INTERVIEWS", "1000000")))


def migrate_size() -> int:
    """How many interviews migrate-store moves there and back."""
    return max(1_000, int(os.environ.get("BENCH_MIGRATE_INTERVIEWS", "100000")))


@contextlib.contextmanager
def server_dsn() -> Iterator[str]:
    """``BENCH_DATABASE_URL``, or a throwaway server (the tests' harness) for the run."""
    given = os.environ.get("BENCH_DATABASE_URL")
    if given:
        yield given
        return
    from tests.pg_server import running_server  # the same throwaway server the tests start

    with running_server() as server:
        yield server.dsn()


async def fresh_schema(dsn: str, name: str) -> str:
    """A DSN whose connections work in an empty schema ``name``."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        await conn.execute(f"CREATE SCHEMA {name}")
    finally:
        await conn.close()
    return f"{dsn}{'&' if '?' in dsn else '?'}search_path={name}"


async def side_by_side(dsn: str, total: int) -> tuple[list[dict[str, object]], dict[str, float]]:
    """Both backends at 1k and at ``total``: rows of p50s (PostgreSQL, SQLite) and the populate times."""
    rng = random.Random(7)
    figures: dict[str, dict[str, tuple[float, float]]] = {}
    populate: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-pg-") as tmp:
        stores = {
            "postgresql": PostgresStore(await fresh_schema(dsn, "bench_scale")),
            "sqlite": SQLiteStore(Path(tmp) / "bench.db"),
        }
        for name, store in stores.items():
            async with store:
                await store.bulk_create_interviews(records(0, SMALL))
                await measure(store, SMALL, rng)  # warm-up
                figures[f"{name}@1k"] = await measure(store, SMALL, rng)
                started = time.perf_counter()
                await store.bulk_create_interviews(records(SMALL, total))
                populate[name] = time.perf_counter() - started
                if isinstance(store, PostgresStore):
                    async with store.pool.acquire() as conn:
                        await conn.execute("ANALYZE")  # what autovacuum does after a bulk load
                figures[f"{name}@big"] = await measure(store, total, rng)
    label = f"{total // 1000:,}k" if total < 1_000_000 else f"{total / 1_000_000:g}M"
    out: list[dict[str, object]] = []
    for operation in figures["postgresql@1k"]:
        pg_small, pg_big = figures["postgresql@1k"][operation], figures["postgresql@big"][operation]
        lite_small, lite_big = figures["sqlite@1k"][operation], figures["sqlite@big"][operation]
        out.append(
            {
                "metric": f"postgresql {operation} p50 @{label}",
                "value": pg_big[0],
                "unit": "µs",
                "note": f"@1k {pg_small[0]:.0f} µs, p99 {pg_big[1]:.0f} µs; {WHAT[operation]}",
            }
        )
        out.append(
            {
                "metric": f"sqlite {operation} p50 @{label}",
                "value": lite_big[0],
                "unit": "µs",
                "note": f"@1k {lite_small[0]:.0f} µs, p99 {lite_big[1]:.0f} µs; PostgreSQL/SQLite "
                f"{pg_big[0] / lite_big[0]:.1f}x",
            }
        )
    return out, populate


def dump(path: Path) -> list[list[tuple[object, ...]]]:
    """Every row of every table, in key order."""
    with sqlite3.connect(path) as db:
        return [list(db.execute(f"SELECT * FROM {t.name} ORDER BY {t.order}")) for t in TABLES]


async def migrate_round_trip(dsn: str, total: int) -> list[dict[str, object]]:
    """migrate-store's copy there and back; rows with the times and whether the content came back identical."""
    with tempfile.TemporaryDirectory(prefix="bench-migrate-") as tmp:
        original, returned = Path(tmp) / "original.db", Path(tmp) / "returned.db"
        async with SQLiteStore(original) as store:
            await store.bulk_create_interviews(records(0, total))
            for n in range(0, total, 50):  # a transcript for one interview in fifty
                await store.append_transcript(f"iv-{n:08d}", "respondent", "an answer, with ü and 😀", float(n))
        target = await fresh_schema(dsn, "bench_migrate")
        started = time.perf_counter()
        to_pg = await copy_store(str(original), target)
        there = time.perf_counter() - started
        started = time.perf_counter()
        await copy_store(target, str(returned))
        back = time.perf_counter() - started
        identical = dump(original) == dump(returned)
    rows = sum(to_pg.rows.values())
    return [
        {
            "metric": f"migrate-store {total:,} interviews SQLite → PostgreSQL",
            "value": there,
            "unit": "s",
            "note": f"{rows:,} rows, {rows / there:,.0f} rows/s",
        },
        {
            "metric": f"migrate-store {total:,} interviews PostgreSQL → SQLite",
            "value": back,
            "unit": "s",
            "note": f"content identical to the original: {'yes' if identical else 'NO'}",
        },
    ]


async def run_async() -> list[dict[str, object]]:
    total = size()
    with server_dsn() as dsn:
        compared, populate = await side_by_side(dsn, total)
        migrated = await migrate_round_trip(dsn, migrate_size())
    return [
        {
            "metric": f"populate {total - SMALL:,} interviews, postgresql",
            "value": populate["postgresql"],
            "unit": "s",
            "note": f"COPY, every index in place; SQLite: {populate['sqlite']:.1f} s (executemany)",
        },
        *compared,
        *migrated,
        {"metric": "sweep rows found", "value": DUE, "unit": "rows", "note": "the same at every size"},
    ]


def run() -> list[dict[str, object]]:
    """The benchmark's rows (see the module docstring)."""
    return asyncio.run(run_async())
