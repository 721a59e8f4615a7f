"""PostgreSQL: every lookup and the inactivity sweep are index searches (``EXPLAIN``), like the SQLite ones.

Checked on the exact SQL the store runs, on a skewed table of 3,000 interviews (most of them completed):
- every statement can be served by its index with no sequential scan and no sort (``enable_seqscan = off`` shows
  which index the planner would pick once a table is too big to read whole);
- with statistics gathered (``ANALYZE``, as autovacuum does), the hot interview lookups and the sweep pick their
  index on their own.
The speed itself is measured in ``bench/``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from conftest import MakeRecord

from bot.core.store import RecordStatus
from storage.pg_rows import QUERIES
from storage.postgres import PostgresStore

# query name -> (the index its plan must use, sample parameters)
EXPECTED: dict[str, tuple[tuple[str, ...], tuple[Any, ...]]] = {
    "get_interview": (("interviews_by_id",), ("iv-x",)),
    "active_interview": (("interviews_open_by_key",), ("discord", "", "dm1", "user1")),
    # both are searches bounded by the one user's interviews; the planner may pick either
    "latest_interview": (("interviews_by_key", "interviews_by_user"), ("discord", "", "dm1", "user1")),
    "interviews_of_user": (("interviews_by_user",), ("discord", "user1", 20)),
    "unfinished_interviews": (("interviews_open_by_key",), ()),
    "resumable_interviews": (("turns_in_flight", "queued_by_interview", "interviews_by_id"), ()),
    "due_interviews": (("interviews_due",), (500.0, 100)),
    "queued_messages": (("queued_by_interview",), ("iv-x",)),
    "turn_in_flight": (("turns_in_flight",), ("iv-x",)),
    "turn_by_id": (("turns_pkey",), (1,)),
    "stranded_interviews": (("queued_by_interview", "queued_by_turn"), (500.0, 100)),
    "turn_claim": (("turns_in_flight",), ("iv-x",)),
    "lapsed_turns": (("turns_by_lease",), (500.0, 100)),
    "turns_sent": (("interviews_by_id",), ("iv-x",)),
    "pending_question": (("pending_questions_pkey",), ("iv-x",)),
    "transcript": (("transcript_by_interview",), ("iv-x",)),
    "get_state": (("adapter_state_pkey",), ("slack", "T1")),
    "prune_events": (("seen_events_by_time",), (1.0,)),
}


@pytest.fixture
def backend() -> str:
    return "postgresql"


@pytest.fixture
async def populated(store: PostgresStore, pg_dsn: str, make_record: MakeRecord) -> AsyncIterator[asyncpg.Connection]:
    """3,000 interviews, one in fifty active with deadlines, and a little of everything else; a plain connection."""
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
    conn = await asyncpg.connect(pg_dsn)
    try:
        yield conn
    finally:
        await conn.close()


async def plan(conn: asyncpg.Connection, name: str) -> list[str]:
    """The plan lines of one named query with its sample parameters."""
    return [row[0] for row in await conn.fetch(f"EXPLAIN {QUERIES[name]}", *EXPECTED[name][1])]


def test_every_query_of_the_store_is_checked() -> None:
    assert set(EXPECTED) == set(QUERIES)


async def test_every_query_has_its_index_and_needs_no_sort(populated: asyncpg.Connection) -> None:
    await populated.execute("ANALYZE")
    await populated.execute("SET enable_seqscan = off")
    for name, (indexes, _) in EXPECTED.items():
        lines = await plan(populated, name)
        text = "\n".join(lines)
        assert any(f"on {index} " in text or f"using {index} " in text for index in indexes), (name, lines)
        assert "Seq Scan" not in text, (name, lines)
        if name != "unfinished_interviews":  # start-up only: a handful of open rows, sorted by id
            assert "Sort" not in text or name == "resumable_interviews", (name, lines)


@pytest.mark.parametrize(
    "name", ["get_interview", "active_interview", "interviews_of_user", "due_interviews", "unfinished_interviews"]
)
async def test_with_statistics_the_hot_queries_pick_their_index(populated: asyncpg.Connection, name: str) -> None:
    await populated.execute("ANALYZE")
    text = "\n".join(await plan(populated, name))
    assert any(index in text for index in EXPECTED[name][0]), text
    assert "Seq Scan on interviews" not in text, text
