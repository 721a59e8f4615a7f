"""``interview-bridge migrate-store``: an SQLite file moves to PostgreSQL and back with identical content.

The regular run uses a few thousand interviews; ``make bench`` moves 100k (bench/bench_scale.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

import asyncpg
import pytest
from conftest import MakeRecord

from bot.core.store import AnalysisStatus, RecordStatus, StoredQuestion
from storage.crypto import generate_key
from storage.postgres import PostgresStore
from storage.sqlite import SQLiteStore
from storage.transfer import TABLES, TargetNotEmpty, copy_store

REPO = Path(__file__).resolve().parents[2]
INTERVIEWS = 3000
KEY = generate_key()


@pytest.fixture
def backend() -> str:
    return "postgresql"


async def fill(path: Path, make_record: MakeRecord) -> None:
    """A file like a deployment's: mostly completed interviews with transcripts, some work in flight."""
    async with SQLiteStore(path, encryption_key=KEY) as store:
        records = [
            make_record(
                user=f"user{n // 4}",
                channel=f"dm{n}",
                platform="slack" if n % 2 else "discord",
                status=RecordStatus.COMPLETED if n % 10 else RecordStatus.ACTIVE,
                study="onboarding" if n % 3 else None,
                locale="de" if n % 7 == 0 else None,
                nudge_at=float(n) if n % 10 == 0 else None,
                expires_at=float(n) + 0.25 if n % 20 == 0 else None,
                exit_requested=n % 40 == 0,
                failed_turn=n % 30 == 0,
                turns_sent=n % 5,
                platform_state={"channel": f"D{n}", "ts": "1700000000.000100", "ü": [1, None]},
            )
            for n in range(INTERVIEWS)
        ]
        await store.bulk_create_interviews(records)
        for n, record in enumerate(records[:300]):
            iid = record.interview_id
            await store.append_transcript(iid, "interviewer", f"Welcome {n} — what brought you here?", 1.5 + n)
            await store.append_transcript(iid, "respondent", "Ein Freund 😀\nand a second line", 2.0 + n)
            if record.status is RecordStatus.ACTIVE:
                await store.enqueue_message(iid, "in flight", 3.0)
                await store.begin_turn(iid, 4.0)
                await store.enqueue_message(iid, "queued", 5.0, answer={"question_id": "q", "value": ["a", 2]})
                await store.set_pending_question(StoredQuestion(iid, "q", {"id": "q", "options": ["a"]}, 6.0))
            elif n % 3 == 0:  # analysed, and one still awaited
                analysis = {"quality_score": 4, "ü": [1.5]}
                await store.settle_analysis(iid, record.study, AnalysisStatus.COMPLETED, analysis, 7.0)
            elif n % 3 == 1:
                await store.watch_analysis(iid, record.study, 8.0 + n, 7.0)
        for n in range(500):
            await store.mark_event("slack", f"Ev{n:05}", float(n))
        await store.put_state("discord", "anchor:dm1", {"message_id": "123456789012345678"})


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table (generated columns included), in key order."""
    with sqlite3.connect(path) as db:
        return {t.name: list(db.execute(f"SELECT * FROM {t.name} ORDER BY {t.order}")) for t in TABLES}


async def migrate(source: str, target: str) -> tuple[int, str, str]:
    """Run the real command."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "migrate-store", "--from", source, "--to", target,
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 300)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_sqlite_to_postgresql_and_back_is_identical(tmp_path: Path, pg_dsn: str, make_record: MakeRecord) -> None:
    original, returned = tmp_path / "original.db", tmp_path / "returned.db"
    await fill(original, make_record)

    status, out, err = await migrate(f"sqlite:///{original}", pg_dsn)
    assert status == 0, err
    assert f"interviews {INTERVIEWS:>12,} rows" in " ".join(out.split("  ")) or f"{INTERVIEWS:,} rows" in out

    async with PostgresStore(pg_dsn, encryption_key=KEY) as moved, SQLiteStore(original, encryption_key=KEY) as old:
        for record in await old.interviews_of_user("discord", "user0"):
            assert await moved.get_interview(record.interview_id) == record
        active = await old.unfinished_interviews()
        assert await moved.unfinished_interviews() == active
        assert await moved.due_interviews(1e9, limit=1000) == await old.due_interviews(1e9, limit=1000)
        some = active[0].interview_id
        assert await moved.turn_in_flight(some) == await old.turn_in_flight(some)
        assert await moved.queued_messages(some) == await old.queued_messages(some)
        assert await moved.pending_question(some) == await old.pending_question(some)
        assert await moved.transcript(some) == await old.transcript(some)
        assert await moved.mark_event("slack", "Ev00042", 1e9) is False
        # new rows after the move take fresh ids (the sequences follow the copied ones)
        await moved.append_transcript(some, "interviewer", "after the move", 1e9)
        assert (await moved.transcript(some))[-1].content == "after the move"

    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute("DELETE FROM transcript WHERE at = 1e9")
    finally:
        await conn.close()
    status, _, err = await migrate(pg_dsn, str(returned))
    assert status == 0, err
    assert dump(returned) == dump(original)


async def test_the_target_must_be_empty(tmp_path: Path, pg_dsn: str, make_record: MakeRecord) -> None:
    source = tmp_path / "source.db"
    async with SQLiteStore(source) as store:
        await store.create_interview(make_record())
    async with PostgresStore(pg_dsn) as target:
        await target.put_state("slack", "T1", {"in": "use"})

    with pytest.raises(TargetNotEmpty):
        await copy_store(str(source), pg_dsn)
    status, _, err = await migrate(str(source), pg_dsn)
    assert status == 2 and "already holds 1 rows" in err
    async with PostgresStore(pg_dsn) as target:  # nothing was added
        assert await target.unfinished_interviews() == []


async def test_bad_locations_get_a_clear_answer(tmp_path: Path) -> None:
    status, _, err = await migrate(str(tmp_path / "missing.db"), str(tmp_path / "b.db"))
    assert status == 2 and "there is no SQLite file at" in err
    assert not (tmp_path / "missing.db").exists()
    async with SQLiteStore(tmp_path / "a.db"):
        pass
    status, _, err = await migrate(str(tmp_path / "a.db"), "mysql://db/bridge")
    assert status == 2 and "unsupported database URL scheme 'mysql'" in err
    status, _, err = await migrate(str(tmp_path / "a.db"), str(tmp_path / "a.db"))
    assert status == 2 and "the same database" in err
    status, _, err = await migrate(str(tmp_path / "a.db"), "postgresql://nobody:pw-secret@127.0.0.1:1/none")
    assert status == 1 and "pw-secret" not in err


#: Tables migrate-store leaves behind on purpose: the schema's own bookkeeping, and the rate windows of the
#: running instances (bookings that expire within a minute).
NOT_MOVED = {"schema_version", "api_budget"}


async def test_every_table_and_column_of_the_schema_is_moved(tmp_path: Path) -> None:
    """A table or column added by a migration but missing from TABLES would be lost silently by a move."""
    async with SQLiteStore(tmp_path / "schema.db"):
        pass
    with sqlite3.connect(tmp_path / "schema.db") as db:
        names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        schema = {
            name: {row[1] for row in db.execute(f"PRAGMA table_xinfo({name})") if row[6] == 0}  # 0: not generated
            for name in names
            if not name.startswith("sqlite_") and name not in NOT_MOVED
        }
    assert {table.name: set(table.names) for table in TABLES} == schema
