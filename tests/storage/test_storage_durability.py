"""Migrations, pragmas, reopening, and surviving ``kill -9``."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import aiosqlite
import pytest

from bot.core.store import InterviewRecord, StoredQuestion
from storage.migrations import MIGRATIONS, Migration, SchemaTooNew, check_order, migrate, schema_version
from storage.sqlite import SQLiteStore

MakeRecord = Callable[..., InterviewRecord]
REPO = Path(__file__).resolve().parents[2]

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
    """These tests are about the SQLite file itself (its PostgreSQL counterparts are in test_postgres_*.py)."""
    return "sqlite"


def raw(db_path: Path, sql: str) -> list[tuple[object, ...]]:
    """Run one statement on the file with the plain sqlite3 module."""
    with sqlite3.connect(db_path) as conn:
        return list(conn.execute(sql))


async def test_open_sets_wal_and_the_schema_version(store: SQLiteStore, db_path: Path) -> None:
    assert raw(db_path, "PRAGMA journal_mode") == [("wal",)]
    assert raw(db_path, "PRAGMA user_version") == [(len(MIGRATIONS),)]
    tables = {row[0] for row in raw(db_path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"interviews", "turns", "queued_messages", "pending_questions", "transcript", "seen_events"} <= tables


async def test_connection_pragmas(store: SQLiteStore) -> None:
    db = store._connection()  # the pragmas are per connection: read them on the store's own
    assert list(await db.execute_fetchall("PRAGMA foreign_keys")) == [(1,)]
    assert list(await db.execute_fetchall("PRAGMA synchronous")) == [(1,)]  # NORMAL
    assert list(await db.execute_fetchall("PRAGMA busy_timeout")) == [(5000,)]


async def test_migrations_apply_once_and_reopen_is_idempotent(db_path: Path) -> None:
    async with SQLiteStore(db_path, migrations=COUNTING):
        pass
    async with SQLiteStore(db_path, migrations=COUNTING):
        pass

    assert raw(db_path, "SELECT count(*) FROM runs") == [(1,)]
    assert raw(db_path, "PRAGMA user_version") == [(len(COUNTING),)]


async def test_migrate_reports_what_it_applied(db_path: Path) -> None:
    async with aiosqlite.connect(db_path, isolation_level=None) as db:
        assert await migrate(db, MIGRATIONS) == list(range(1, len(MIGRATIONS) + 1))
        assert await migrate(db, COUNTING) == [len(COUNTING)]
        assert await migrate(db, COUNTING) == []
        assert await schema_version(db) == len(COUNTING)


async def test_a_failing_migration_leaves_the_previous_version(db_path: Path) -> None:
    broken = (*MIGRATIONS, Migration(len(MIGRATIONS) + 1, "broken", ("CREATE TABLE half (n)", "NOT SQL")))
    with pytest.raises(sqlite3.OperationalError):
        await SQLiteStore(db_path, migrations=broken).open()

    assert raw(db_path, "PRAGMA user_version") == [(len(MIGRATIONS),)]
    assert raw(db_path, "SELECT name FROM sqlite_master WHERE name = 'half'") == []


async def test_a_newer_database_is_refused(db_path: Path) -> None:
    async with SQLiteStore(db_path, migrations=COUNTING):
        pass
    with pytest.raises(SchemaTooNew, match="schema version"):
        await SQLiteStore(db_path).open()


def test_migration_versions_must_be_in_order() -> None:
    check_order(MIGRATIONS)
    with pytest.raises(ValueError):
        check_order([Migration(2, "skips one", ())])


async def test_reopen_after_close_keeps_everything(db_path: Path, make_record: MakeRecord) -> None:
    record = make_record(platform_state={"channel": "D1"}, nudge_at=50.0)
    async with SQLiteStore(db_path) as store:
        await store.create_interview(record)
        await store.enqueue_message(record.interview_id, "in flight", 1.0)
        turn = await store.begin_turn(record.interview_id, 2.0)
        await store.enqueue_message(record.interview_id, "queued", 3.0, answer={"question_id": "q", "value": 1})
        question = StoredQuestion(record.interview_id, "q", {"id": "q"}, 4.0)
        await store.set_pending_question(question)
        await store.append_transcript(record.interview_id, "interviewer", "Welcome", 0.5)
        await store.mark_event("discord", "m1", 5.0)
        await store.put_state("discord", "app", {"id": "A1"})

    async with SQLiteStore(db_path) as store:
        assert await store.get_interview(record.interview_id) == record
        assert await store.active_interview(record.key) == record
        assert await store.due_interviews(100.0) == [record]
        assert await store.turn_in_flight(record.interview_id) == turn
        assert [m.content for m in await store.queued_messages(record.interview_id)] == ["queued"]
        assert await store.pending_question(record.interview_id) == question
        assert [line.content for line in await store.transcript(record.interview_id)] == ["Welcome"]
        assert await store.mark_event("discord", "m1", 6.0) is False
        assert await store.get_state("discord", "app") == {"id": "A1"}


def wal_size(db_path: Path) -> int:
    """Bytes in the database's write-ahead log."""
    return Path(f"{db_path}-wal").stat().st_size


CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    from bot.core.keys import ConversationKey
    from bot.core.store import InterviewRecord
    from storage.sqlite import SQLiteStore

    async def main() -> None:
        store = SQLiteStore(sys.argv[1])
        await store.open()
        key = ConversationKey("slack", "T1", "D1", "U1")
        await store.create_interview(InterviewRecord(key, "killed-iv", "tok", created_at=1.0))
        await store.enqueue_message("killed-iv", "typed just before the crash", 2.0)
        await store.begin_turn("killed-iv", 3.0)
        await store.mark_event("slack", "Ev-last", 3.0)
        print("committed", flush=True)
        time.sleep(60)  # blocks the loop: nothing more happens before the kill

    asyncio.run(main())
    """
)


async def test_kill_9_loses_no_committed_write(db_path: Path) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(db_path), cwd=REPO, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), timeout=60)
        assert line == b"committed\n"
        assert wal_size(db_path) > 0  # the commits are still only in the WAL
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    assert child.returncode == -signal.SIGKILL

    async with SQLiteStore(db_path) as store:
        record = await store.get_interview("killed-iv")
        assert record is not None and record.session_token == "tok"
        turn = await store.turn_in_flight("killed-iv")
        assert turn is not None and turn.content == "typed just before the crash"
        assert await store.mark_event("slack", "Ev-last", 4.0) is False


async def test_handoffs_and_their_callbacks_survive_the_migration_to_consent_first(db_path: Path) -> None:
    async with SQLiteStore(db_path, migrations=MIGRATIONS[:8]):  # the version before handoffs wait for consent
        pass
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "INSERT INTO handoffs VALUES ('ho_1', 'k-1', 'discord::dm1:1001', 'default', 'iv-1', '{}', "
            "'http://127.0.0.1:9/cb', 'accepted', NULL, 1.0, 2.0)"
        )
        conn.execute(
            "INSERT INTO handoff_callbacks (handoff_id, event, seq, body, next_attempt_at, created_at) "
            "VALUES ('ho_1', 'accepted', 1, '{}', 1.0, 1.0)"
        )
    async with SQLiteStore(db_path) as store:
        found = await store.get_handoff("ho_1")
        assert found is not None and found.interview_id == "iv-1" and found.request_hash is None
        (callback,) = await store.claim_callbacks(5.0, 60.0)
        assert (callback.handoff_id, callback.url) == ("ho_1", "http://127.0.0.1:9/cb")
    assert raw(db_path, "PRAGMA foreign_key_check") == []
    assert raw(db_path, "SELECT count(*) FROM sqlite_master WHERE name LIKE '%_next'") == [(0,)]
