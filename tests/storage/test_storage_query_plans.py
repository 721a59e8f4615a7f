"""Every lookup and the inactivity sweep are index searches (EXPLAIN QUERY PLAN), so table size does not matter.

The speed itself is measured in ``bench/bench_storage.py``; here only the plans are checked, on the exact SQL the
store runs, both without planner statistics (how the store runs) and after ``ANALYZE`` on a skewed table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.core.store import InterviewRecord, RecordStatus
from storage.sqlite import SQLiteStore
from storage.sqlite_rows import QUERIES

MakeRecord = Callable[..., InterviewRecord]

# query name -> what its plan must say (an index search, or a scan of a partial index of open interviews only)
EXPECTED = {
    "get_interview": "SEARCH interviews USING INDEX interviews_by_id (interview_id=?)",
    "active_interview": "SEARCH interviews USING INDEX interviews_open_by_key (platform=? AND workspace=? AND",
    "latest_interview": "SEARCH interviews USING INDEX interviews_by_key (platform=? AND workspace=? AND",
    "interviews_of_user": "SEARCH interviews USING INDEX interviews_by_user (platform=? AND user_id=?)",
    "unfinished_interviews": "SCAN interviews USING INDEX interviews_open_by_key",
    "due_interviews": "SEARCH interviews USING INDEX interviews_due (due_at<?)",
    "resumable_interviews": "SEARCH interviews USING INDEX interviews_by_id (interview_id=?)",
    "queued_messages": "SEARCH queued_messages USING INDEX queued_by_interview (interview_id=?)",
    "turn_in_flight": "SEARCH turns USING INDEX turns_in_flight (interview_id=?)",
    "turn_by_id": "SEARCH turns USING INTEGER PRIMARY KEY (rowid=?)",
    "stranded_interviews": "SEARCH q USING INDEX queued_by_turn (turn_id=?)",
    "turn_claim": "SEARCH turns USING INDEX turns_in_flight (interview_id=?)",
    "lapsed_turns": "SEARCH turns USING INDEX turns_by_lease (lease_until<?)",
    "turns_sent": "SEARCH interviews USING INDEX interviews_by_id (interview_id=?)",
    "pending_question": "SEARCH pending_questions USING PRIMARY KEY (interview_id=?)",
    "transcript": "SEARCH transcript USING INDEX transcript_by_interview (interview_id=?)",
    "get_state": "SEARCH adapter_state USING PRIMARY KEY (scope=? AND key=?)",
    "prune_events": "SEARCH seen_events USING COVERING INDEX seen_events_by_time (seen_at<?)",
}


@pytest.fixture
def backend() -> str:
    """These tests are about the SQLite file itself (its PostgreSQL counterparts are in test_postgres_*.py)."""
    return "sqlite"


def plan(conn: sqlite3.Connection, name: str) -> list[str]:
    """The plan lines of one named query, its parameters bound to placeholder values."""
    sql = QUERIES[name]
    return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", ["x"] * sql.count("?"))]


@pytest.fixture
async def populated(db_path: Path, make_record: MakeRecord) -> AsyncIterator[sqlite3.Connection]:
    """A file with 3,000 interviews, most of them completed (like a long-running deployment), no statistics."""
    async with SQLiteStore(db_path) as store:
        records = [
            make_record(
                user=f"user{n // 3}",
                channel=f"dm{n}",
                status=RecordStatus.ACTIVE if n % 50 == 0 else RecordStatus.COMPLETED,
                nudge_at=float(n) if n % 50 == 0 else None,
                expires_at=float(n) + 10 if n % 50 == 0 else None,
            )
            for n in range(3000)
        ]
        await store.bulk_create_interviews(records)
        await store.enqueue_message(records[0].interview_id, "hi", 1.0)
        await store.append_transcript(records[0].interview_id, "respondent", "hi", 1.0)
        await store.mark_event("slack", "e", 1.0)
    conn = sqlite3.connect(db_path)
    try:
        yield conn
    finally:
        conn.close()


def test_every_query_of_the_store_is_checked() -> None:
    assert set(EXPECTED) == set(QUERIES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_query_uses_its_index(populated: sqlite3.Connection, name: str) -> None:
    lines = plan(populated, name)
    assert any(line.startswith(EXPECTED[name]) for line in lines), lines
    assert not any(line.startswith("SCAN") and "INDEX" not in line for line in lines), lines


@pytest.mark.parametrize("name", ["get_interview", "active_interview", "interviews_of_user", "due_interviews"])
def test_index_still_used_with_statistics(populated: sqlite3.Connection, name: str) -> None:
    """Should statistics ever be gathered (``ANALYZE``), the hot queries keep their index."""
    populated.execute("ANALYZE")
    lines = plan(populated, name)
    assert any(line.startswith(EXPECTED[name]) for line in lines), lines


def test_sweep_needs_no_sort(populated: sqlite3.Connection) -> None:
    """The sweep reads the due index in order and stops at its limit: no temporary sort of all active rows."""
    assert not any("TEMP B-TREE" in line for line in plan(populated, "due_interviews"))
