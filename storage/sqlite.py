"""The SQLite backend of :class:`bot.core.store.Store` (aiosqlite, WAL, versioned migrations).

Durability: ``journal_mode=WAL`` with ``synchronous=NORMAL``. A commit is in the WAL file (the OS page cache) when
it returns, so killing the process (``kill -9``, OOM, a crash) loses nothing; only a power loss or a kernel panic
can lose the last commits, and the database stays consistent even then. ``FULL`` would add an fsync per commit
(one per respondent message) to guard against power loss only — not worth it for a chat bridge whose turns can be
resent. Pass ``synchronous="FULL"`` where it is.

Concurrency: aiosqlite runs one thread per connection. Every method holds one :class:`asyncio.Lock` while it
talks to the connection, and multi-statement methods run in ``BEGIN IMMEDIATE`` … ``COMMIT``, so the
transactions of concurrent coroutines never interleave; other processes are held off by SQLite's own locks
(``busy_timeout``).

Query plans: no ``ANALYZE`` is run, on purpose. Without statistics SQLite assumes large tables and uses the
indexes for every lookup; statistics gathered while a table is small would steer it to full scans later.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import aiosqlite

from bot.core.keys import ConversationKey
from bot.core.store import (
    InterviewRecord,
    QueuedMessage,
    Seen,
    Store,
    StoredQuestion,
    Turn,
    TurnLease,
    UnknownInterview,
)
from storage import sqlite_rows as rows
from storage.crypto import TokenCipher
from storage.migrations import MIGRATIONS, Migration, migrate, rollback_quietly
from storage.sqlite_handoffs import HandoffTables
from storage.sqlite_invitations import SQLiteInvitations
from storage.sqlite_privacy import PrivacyTables
from storage.sqlite_results import ResultsTables

_log = logging.getLogger(__name__)
_MARK_EVENT = "INSERT INTO seen_events (platform, event_id, seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
# aiosqlite logs every call with its parameters at DEBUG level, session tokens included: never let that through.
logging.getLogger("aiosqlite").setLevel(logging.INFO)

BUSY_TIMEOUT_MS = 5000
"""How long a statement waits for another process's lock before failing."""
CACHE_KIB = 32 * 1024
"""SQLite's page cache per connection (the indexes of ~1M interviews fit)."""
MMAP_BYTES = 256 * 1024 * 1024
"""Memory-mapped reads of the file (shared OS page cache, not private memory)."""


class SQLiteStore(PrivacyTables, SQLiteInvitations, ResultsTables, HandoffTables, Store):
    """:class:`bot.core.store.Store` on one SQLite file (or ``":memory:"``)."""

    def __init__(
        self,
        path: str | Path,
        *,
        encryption_key: str | None = None,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
        self.path = str(path)
        self._cipher = TokenCipher(encryption_key)  # validates the key now, before anything is written
        self._synchronous = synchronous
        self._migrations = tuple(migrations)
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r}, encrypting={self._cipher.encrypting})"

    # --- lifecycle ---
    async def open(self) -> None:
        """Connect, set the pragmas and apply pending migrations (a second call does nothing)."""
        async with self._lock:
            if self._db is None:
                self._db = await self._connect()

    async def _connect(self) -> aiosqlite.Connection:
        db = await aiosqlite.connect(self.path, isolation_level=None)  # autocommit; transactions are explicit
        try:
            await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = next(iter(await db.execute_fetchall("PRAGMA journal_mode = WAL")))[0]
            if mode != "wal" and self.path != ":memory:":  # ":memory:" keeps its own journal; that is fine
                _log.warning("storage: %s cannot use WAL (journal_mode is %s)", self.path, mode)
            await db.execute(f"PRAGMA synchronous = {self._synchronous}")
            await db.execute("PRAGMA foreign_keys = ON")
            # lookups touch a handful of b-tree pages; keep them in memory rather than one pread() each
            await db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            await db.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
            applied = await migrate(db, self._migrations)
        except BaseException:
            await db.close()
            raise
        if applied:
            _log.info("storage: applied schema migrations %s to %s", applied, self.path)
        return db

    async def close(self) -> None:
        """Release the connection (waiting for the method in progress, if any)."""
        async with self._lock:
            db, self._db = self._db, None
            if db is not None:
                await db.close()

    async def __aenter__(self) -> SQLiteStore:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _connection(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection inside ``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on any error), under the lock."""
        async with self._lock:
            db = self._connection()
            try:  # BEGIN inside the try: a caller cancelled while BEGIN runs must still roll back
                await db.execute("BEGIN IMMEDIATE")
                yield db
                await db.execute("COMMIT")
            except BaseException:
                await rollback_quietly(db)
                raise

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """All rows of one statement (which commits on its own), under the lock."""
        async with self._lock:
            return list(await self._connection().execute_fetchall(sql, params))

    # --- interviews ---
    async def create_interview(self, record: InterviewRecord) -> None:
        """Insert; raises :class:`ActiveInterviewExists` if the key already has a non-completed one."""
        try:
            await self._fetch(rows.INSERT_INTERVIEW, rows.interview_params(record, self._cipher))
        except sqlite3.IntegrityError as error:
            raise rows.integrity_error(error, record) from None

    async def bulk_create_interviews(self, records: Iterable[InterviewRecord]) -> int:
        """Insert many interviews in one transaction (imports, the benchmark); returns how many.

        Raises like :meth:`create_interview`, and then inserts none of them.
        """
        cipher = self._cipher
        params = (rows.interview_params(record, cipher) for record in records)
        try:
            async with self._transaction() as db, db.executemany(rows.INSERT_INTERVIEW, params) as cursor:
                return int(cursor.rowcount)
        except sqlite3.IntegrityError as error:
            raise rows.integrity_error(error, None) from None

    async def update_interview(self, record: InterviewRecord) -> None:
        """Write every field of ``record`` (by ``interview_id``), except that ``turns_sent`` never goes down.

        Raises :class:`UnknownInterview` if it is not stored, :class:`ActiveInterviewExists` if reopening it would
        give its conversation two non-completed interviews.
        """
        try:
            done = await self._fetch(rows.UPDATE_INTERVIEW, rows.update_params(record, self._cipher))
        except sqlite3.IntegrityError as error:
            raise rows.integrity_error(error, record) from None
        if not done:
            raise UnknownInterview(f"no interview {record.interview_id!r} is stored")

    async def get_interview(self, interview_id: str) -> InterviewRecord | None:
        """By interview id, whatever its status."""
        return self._one_interview(await self._fetch(rows.QUERIES["get_interview"], (interview_id,)))

    async def active_interview(self, key: ConversationKey) -> InterviewRecord | None:
        """The non-completed interview of this conversation, if any."""
        return self._one_interview(await self._fetch(rows.QUERIES["active_interview"], rows.key_params(key)))

    async def latest_interview(self, key: ConversationKey) -> InterviewRecord | None:
        """The most recent interview of this conversation, whatever its status."""
        return self._one_interview(await self._fetch(rows.QUERIES["latest_interview"], rows.key_params(key)))

    async def interviews_of_user(self, platform: str, user: str, limit: int = 20) -> list[InterviewRecord]:
        """A user's interviews on a platform, newest first."""
        return self._interviews(await self._fetch(rows.QUERIES["interviews_of_user"], (platform, user, limit)))

    async def unfinished_interviews(self) -> list[InterviewRecord]:
        """Every non-completed interview, oldest first."""
        return self._interviews(await self._fetch(rows.QUERIES["unfinished_interviews"]))

    async def resumable_interviews(self) -> list[InterviewRecord]:
        """Active interviews with a turn in flight or queued messages, and completing ones."""
        return self._interviews(await self._fetch(rows.QUERIES["resumable_interviews"]))

    async def due_interviews(self, now: float, limit: int = 100) -> list[InterviewRecord]:
        """Active interviews whose ``nudge_at`` or ``expires_at`` is at or before ``now``, most overdue first."""
        return self._interviews(await self._fetch(rows.QUERIES["due_interviews"], (now, limit)))

    def _interviews(self, found: Iterable[Sequence[Any]]) -> list[InterviewRecord]:
        return [rows.interview_from_row(row, self._cipher) for row in found]

    def _one_interview(self, found: list[sqlite3.Row]) -> InterviewRecord | None:
        return rows.interview_from_row(found[0], self._cipher) if found else None

    # --- messages and turns ---
    async def enqueue_message(
        self, interview_id: str, content: str, now: float, answer: dict[str, Any] | None = None, *, event: Seen = None
    ) -> QueuedMessage:
        """Keep a respondent message until it is sent; ``event`` is marked seen in the same transaction."""
        sql = "INSERT INTO queued_messages (interview_id, content, answer, created_at) VALUES (?, ?, ?, ?) RETURNING id"
        stored_answer = None if answer is None else rows.dump_json(answer)
        try:
            async with self._transaction() as db:
                found = list(await db.execute_fetchall(sql, (interview_id, content, stored_answer, now)))
                if event is not None:
                    await db.execute(_MARK_EVENT, (*event, now))
        except sqlite3.IntegrityError:
            raise UnknownInterview(f"no interview {interview_id!r} is stored") from None
        return QueuedMessage(id=found[0][0], interview_id=interview_id, content=content, created_at=now, answer=answer)

    async def queued_messages(self, interview_id: str) -> list[QueuedMessage]:
        """Messages not yet sent (nor in flight), oldest first."""
        found = await self._fetch(rows.QUERIES["queued_messages"], (interview_id,))
        return [rows.message_from_row(row) for row in found]

    async def begin_turn(
        self, interview_id: str, now: float, joiner: str = "\n\n", lease: TurnLease | None = None
    ) -> Turn | None:
        """Atomically turn queued messages into the turn in flight and return it (see :class:`Store`)."""
        owner, until = (lease.owner, lease.until) if lease is not None else (None, None)
        async with self._transaction() as db:
            in_flight = list(await db.execute_fetchall(rows.QUERIES["turn_claim"], (interview_id,)))
            if in_flight:
                if rows.held_by_another(in_flight[0], lease, now):
                    return None
                await db.execute(
                    "UPDATE turns SET owner = ?, lease_until = ? WHERE id = ?", (owner, until, in_flight[0][0])
                )
                return rows.turn_from_row(in_flight[0], resumed=True)
            queued = [
                rows.message_from_row(row)
                for row in await db.execute_fetchall(rows.QUERIES["queued_messages"], (interview_id,))
            ]
            if not queued:
                return None
            batch = rows.next_batch(queued)
            sent = list(await db.execute_fetchall(rows.QUERIES["turns_sent"], (interview_id,)))
            turns_before = int(sent[0][0])
            content = batch[0].content if batch[0].answer is not None else joiner.join(m.content for m in batch)
            answer = batch[0].answer
            inserted = list(
                await db.execute_fetchall(
                    "INSERT INTO turns (interview_id, content, answer, created_at, turns_before, owner, lease_until) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (interview_id, content, rows.dump_optional(answer), now, turns_before, owner, until),
                )
            )
            turn_id = int(inserted[0][0])
            # the batch is a run at the head of the queue: every untaken message between its first and last id
            await db.execute(
                "UPDATE queued_messages SET turn_id = ? "
                "WHERE interview_id = ? AND turn_id IS NULL AND id BETWEEN ? AND ?",
                (turn_id, interview_id, batch[0].id, batch[-1].id),
            )
            return Turn(turn_id, interview_id, content, now, answer, turns_before)

    async def turn_in_flight(self, interview_id: str) -> Turn | None:
        """The turn stored by ``begin_turn`` and not yet finished."""
        found = await self._fetch(rows.QUERIES["turn_in_flight"], (interview_id,))
        return rows.turn_from_row(found[0]) if found else None

    async def finish_turn(self, turn_id: int, reply: str | None, now: float) -> None:
        """The turn is done: mirror the respondent text and ``reply`` (if any) into the transcript, count it.

        All in one transaction; a second call for the same turn does nothing.
        """
        async with self._transaction() as db:
            found = list(await db.execute_fetchall(rows.QUERIES["turn_by_id"], (turn_id,)))
            if not found:
                return
            turn = rows.turn_from_row(found[0])
            lines = [(turn.interview_id, "respondent", turn.content, turn.created_at)]
            if reply:
                lines.append((turn.interview_id, "interviewer", reply, now))
            await self._insert_lines(db, lines)
            await db.execute("DELETE FROM turns WHERE id = ?", (turn_id,))  # its messages go with it
            await db.execute(
                "UPDATE interviews SET turns_sent = turns_sent + 1 WHERE interview_id = ?", (turn.interview_id,)
            )

    async def renew_turn_leases(self, owner: str, until: float, interview_ids: Sequence[str]) -> int:
        """Extend to ``until`` the leases ``owner`` holds on the turns of ``interview_ids``; returns how many."""
        params = (until, owner, json.dumps(list(interview_ids)))
        async with self._lock, self._connection().execute(rows.RENEW_LEASES, params) as cursor:
            return int(cursor.rowcount)

    async def release_turn(self, turn_id: int, owner: str) -> None:
        """``owner`` stops running the turn: it stays in flight, unclaimed."""
        await self._fetch(rows.RELEASE_TURN, (turn_id, owner))

    async def lapsed_turns(self, now: float, limit: int = 100) -> list[str]:
        """Interviews whose turn in flight has a lease that ran out before ``now``."""
        return [str(row[0]) for row in await self._fetch(rows.QUERIES["lapsed_turns"], (now, limit))]

    async def stranded_interviews(self, before: float, limit: int = 100) -> list[str]:
        """Interviews with messages queued before ``before`` and no turn in flight."""
        return [str(row[0]) for row in await self._fetch(rows.QUERIES["stranded_interviews"], (before, limit))]

    async def requeue_turn(self, turn_id: int) -> None:
        """The turn provably never reached the API: put its messages back at the head of the queue."""
        async with self._transaction() as db:
            # they keep their ids, which are older than anything queued since: they are at the head again
            await db.execute("UPDATE queued_messages SET turn_id = NULL WHERE turn_id = ?", (turn_id,))
            await db.execute("DELETE FROM turns WHERE id = ?", (turn_id,))

    # --- questions ---
    async def set_pending_question(self, question: StoredQuestion) -> None:
        """Replace the interview's pending question."""
        sql = (
            "INSERT INTO pending_questions (interview_id, question_id, question, asked_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (interview_id) DO UPDATE SET question_id = excluded.question_id, "
            "question = excluded.question, asked_at = excluded.asked_at"
        )
        params = (question.interview_id, question.question_id, rows.dump_json(question.question), question.asked_at)
        try:
            await self._fetch(sql, params)
        except sqlite3.IntegrityError:
            raise UnknownInterview(f"no interview {question.interview_id!r} is stored") from None

    async def pending_question(self, interview_id: str) -> StoredQuestion | None:
        """The question waiting for an answer, if any."""
        found = await self._fetch(rows.QUERIES["pending_question"], (interview_id,))
        return rows.question_from_row(found[0]) if found else None

    async def resolve_question(self, interview_id: str, question_id: str) -> bool:
        """Atomically clear the pending question if it is ``question_id``; True for the one caller who did."""
        sql = "DELETE FROM pending_questions WHERE interview_id = ? AND question_id = ? RETURNING 1"
        return bool(await self._fetch(sql, (interview_id, question_id)))

    # --- platform events ---
    async def mark_event(self, platform: str, event_id: str, now: float) -> bool:
        """Remember a platform event id; False if it was seen before (a redelivery)."""
        return bool(await self._fetch(_MARK_EVENT + " RETURNING 1", (platform, event_id, now)))

    async def event_seen(self, platform: str, event_id: str) -> bool:
        """True if the event id was marked (by ``mark_event`` or ``enqueue_message``)."""
        sql = "SELECT 1 FROM seen_events WHERE platform = ? AND event_id = ?"
        return bool(await self._fetch(sql, (platform, event_id)))

    async def prune_events(self, before: float) -> int:
        """Forget event ids older than ``before``; returns how many were removed."""
        async with self._lock, self._connection().execute(rows.QUERIES["prune_events"], (before,)) as cursor:
            return int(cursor.rowcount)

    # --- transcript mirror: storage.sqlite_privacy (encrypted at rest with a key) ---

    # --- adapter key/value ---
    async def put_state(self, scope: str, key: str, value: dict[str, Any] | None) -> None:
        """Set (or with None, delete) a small JSON value."""
        if value is None:
            await self._fetch("DELETE FROM adapter_state WHERE scope = ? AND key = ?", (scope, key))
            return
        sql = (
            "INSERT INTO adapter_state (scope, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value"
        )
        await self._fetch(sql, (scope, key, rows.dump_json(value)))

    async def get_state(self, scope: str, key: str) -> dict[str, Any] | None:
        """Read a value written by ``put_state``."""
        found = await self._fetch(rows.QUERIES["get_state"], (scope, key))
        return rows.load_json(found[0][0]) if found else None
