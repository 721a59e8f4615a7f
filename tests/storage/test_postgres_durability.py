"""PostgreSQL: versioned migrations (once, atomic, under an advisory lock when instances start together),
session tokens at rest, and a DSN's password kept out of reprs."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from conftest import MakeRecord, NewStore

from storage.crypto import SessionTokenUnreadable, generate_key
from storage.dsn import describe_dsn
from storage.migrations import Migration, SchemaTooNew
from storage.pg_locks import MIGRATION_LOCK, LockSpace
from storage.pg_migrations import MIGRATIONS, migrate, schema_version
from storage.postgres import PostgresStore

REPO = Path(__file__).resolve().parents[2]
TOKEN = "sess_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
COUNTING = (
    *MIGRATIONS,
    Migration(
        len(MIGRATIONS) + 1,
        "a test migration that counts its runs",
        ("CREATE TABLE runs (n INTEGER)", "INSERT INTO runs VALUES (1)"),
    ),
)


@pytest.fixture
def backend() -> str:
    return "postgresql"


async def fetch(dsn: str, sql: str) -> list[tuple[object, ...]]:
    conn = await asyncpg.connect(dsn)
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


async def test_open_creates_the_schema_at_the_latest_version(store: PostgresStore, pg_dsn: str) -> None:
    assert await fetch(pg_dsn, "SELECT max(version) FROM schema_version") == [(len(MIGRATIONS),)]
    tables = {
        row[0] for row in await fetch(pg_dsn, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    }
    assert {"interviews", "turns", "queued_messages", "pending_questions", "transcript", "seen_events"} <= tables
    indexes = {
        row[0] for row in await fetch(pg_dsn, "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
    }
    # the same named indexes as the SQLite schema
    assert {
        "interviews_by_id", "interviews_open_by_key", "interviews_by_key", "interviews_by_user", "interviews_due",
        "turns_in_flight", "queued_by_interview", "queued_by_turn", "transcript_by_interview", "seen_events_by_time",
    } <= indexes  # fmt: skip


async def test_migrations_apply_once_and_reopen_is_idempotent(new_store: NewStore, pg_dsn: str) -> None:
    async with new_store(migrations=COUNTING):
        pass
    async with new_store(migrations=COUNTING):
        pass
    assert await fetch(pg_dsn, "SELECT count(*) FROM runs") == [(1,)]
    conn = await asyncpg.connect(pg_dsn)
    try:
        assert await schema_version(conn) == len(COUNTING)
        assert await migrate(conn, COUNTING) == []
    finally:
        await conn.close()


async def test_instances_starting_together_migrate_once(new_store: NewStore, pg_dsn: str) -> None:
    stores = [new_store(migrations=COUNTING) for _ in range(6)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        assert await fetch(pg_dsn, "SELECT count(*) FROM runs") == [(1,)]
        assert await fetch(pg_dsn, "SELECT version FROM schema_version ORDER BY version") == [
            (v,) for v in range(1, len(COUNTING) + 1)
        ]
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_a_migration_waits_for_the_instance_holding_the_lock(new_store: NewStore, pg_dsn: str) -> None:
    holder = await asyncpg.connect(pg_dsn)
    try:
        await holder.execute("SELECT pg_advisory_lock($1, $2)", LockSpace.SCHEMA, MIGRATION_LOCK)
        store = new_store()
        opening = asyncio.create_task(store.open())
        done, _ = await asyncio.wait({opening}, timeout=1.0)
        assert not done  # blocked on the lock, not racing the holder
        await holder.execute("SELECT pg_advisory_unlock($1, $2)", LockSpace.SCHEMA, MIGRATION_LOCK)
        await asyncio.wait_for(opening, timeout=60)
        await store.close()
    finally:
        await holder.close()


async def test_a_failing_migration_leaves_the_previous_version(new_store: NewStore, pg_dsn: str) -> None:
    broken = (*MIGRATIONS, Migration(len(MIGRATIONS) + 1, "broken", ("CREATE TABLE half (n INTEGER)", "NOT SQL")))
    with pytest.raises(asyncpg.PostgresSyntaxError):
        await new_store(migrations=broken).open()
    assert await fetch(pg_dsn, "SELECT max(version) FROM schema_version") == [(len(MIGRATIONS),)]
    assert await fetch(pg_dsn, "SELECT to_regclass('half') IS NULL") == [(True,)]


async def test_a_newer_database_is_refused(new_store: NewStore) -> None:
    async with new_store(migrations=COUNTING):
        pass
    with pytest.raises(SchemaTooNew, match="schema version"):
        await new_store().open()


async def test_with_a_key_the_token_is_not_stored_in_clear(
    new_store: NewStore, pg_dsn: str, make_record: MakeRecord
) -> None:
    key = generate_key()
    record = make_record(session_token=TOKEN)
    async with new_store(encryption_key=key) as store:
        await store.create_interview(record)
        stored = await fetch(pg_dsn, "SELECT session_token, token_encrypted FROM interviews")
        assert stored[0][1] is True and TOKEN not in str(stored)
        assert await store.get_interview(record.interview_id) == record
    async with new_store() as store:
        with pytest.raises(SessionTokenUnreadable, match="no TOKEN_ENCRYPTION_KEY") as missing:
            await store.get_interview(record.interview_id)
    assert TOKEN not in str(missing.value)


def test_the_password_of_a_dsn_stays_out_of_reprs() -> None:
    store = PostgresStore("postgresql://bridge:hunter2-secret@db.internal:5432/bridge")
    assert "hunter2" not in repr(store)
    assert "db.internal:5432/bridge" in repr(store)
    assert describe_dsn("postgresql://db/bridge") == "postgresql://db/bridge"


def doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``interview-bridge doctor`` with ``env`` on top of a clean environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "KOJI_", "DISCORD_", "SLACK_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "doctor"],
        capture_output=True, text=True, timeout=120, env={**clean, **env}, cwd=REPO,
    )  # fmt: skip


async def test_doctor_checks_the_postgresql_database(pg_dsn: str, new_store: NewStore) -> None:
    fresh = await asyncio.to_thread(doctor, {"DATABASE_URL": pg_dsn})
    assert "reachable; the schema is created at the first run" in fresh.stdout, fresh.stdout
    async with new_store():
        pass
    migrated = await asyncio.to_thread(doctor, {"DATABASE_URL": pg_dsn})
    assert f"reachable, schema version {len(MIGRATIONS)}" in migrated.stdout, migrated.stdout
    refused = await asyncio.to_thread(doctor, {"DATABASE_URL": "postgresql://bridge:pw-secret@127.0.0.1:1/none"})
    assert "PostgreSQL at postgresql://bridge@127.0.0.1:1/none cannot be used" in refused.stdout, refused.stdout
    assert "pw-secret" not in refused.stdout + refused.stderr
    assert refused.returncode != 0
