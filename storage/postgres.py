"""The PostgreSQL backend of :class:`bot.core.store.Store` (asyncpg, a connection pool, versioned migrations).

Chosen by ``DATABASE_URL=postgresql://…``; several instances of the bridge can share one database.

Concurrency: every method is one statement or one transaction on a connection of the pool. Where SQLite
serialises writers with ``BEGIN IMMEDIATE``, the transactions here that read before they write lock the
interview's row first (``SELECT … FOR UPDATE``), so concurrent callers in this or another process take turns
per interview and never per table. Uniqueness (one open interview per conversation, one turn in flight per
interview, one seen event per id) is enforced by unique indexes, the arbiter between instances.

Durability: a commit returns once PostgreSQL has flushed its WAL (``synchronous_commit=on``, the server's
default), so a killed bridge loses nothing; the server's own durability is the operator's (backups, replicas).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any

import asyncpg

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
from storage import pg_rows
from storage import sqlite_rows as rows
from storage.crypto import TokenCipher
from storage.dsn import describe_dsn
from storage.migrations import Migration
from storage.pg_handoffs import PgHandoffTables
from storage.pg_invitations import PgInvitations
from storage.pg_migrations import MIGRATIONS, Connection, migrate
from storage.pg_privacy import PgPrivacyTables
from storage.pg_results import PgResultsTables

_log = logging.getLogger(__name__)
_MARK_EVENT = "INSERT INTO seen_events (platform, event_id, seen_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"

POOL_SIZE = 10
"""Connections per instance: enough for the turns running at once (each statement holds one only briefly)."""


class PostgresStore(PgPrivacyTables, PgInvitations, PgResultsTables, PgHandoffTables, Store):
    """:class:`bot.core.store.Store` on a PostgreSQL database (``postgresql://user:password@host:port/db``)."""

    def __init__(
        self,
        dsn: str,
        *,
        encryption_key: str | None = None,
        migrations: Sequence[Migration] = MIGRATIONS,
        pool_size: int = POOL_SIZE,
    ) -> None:
        self.dsn = dsn
        self._cipher = TokenCipher(encryption_key)  # validates the key now, before anything is written
        self._migrations = tuple(migrations)
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    def __repr__(self) -> str:  # the DSN may carry a password: show where, not how
        return f"PostgresStore({describe_dsn(self.dsn)!r}, encrypting={self._cipher.encrypting})"

    # --- lifecycle ---
    async def open(self) -> None:
        """Connect and apply pending migrations (a second call does nothing)."""
        async with self._opening:
            if self._pool is not None:
                return
            pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=self._pool_size)
            try:
                async with pool.acquire() as conn:
                    applied = await migrate(conn, self._migrations)
            except BaseException:
                await pool.close()
                raise
            if applied:
                _log.info("storage: applied schema migrations %s to %s", applied, describe_dsn(self.dsn))
            self._pool = pool

    async def close(self) -> None:
        """Release the connections (waiting for the statements in progress)."""
        async with self._opening:
            pool, self._pool = self._pool, None
            if pool is not None:
                await pool.close()

    async def __aenter__(self) -> PostgresStore:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def pool(self) -> asyncpg.Pool:
        """The open connection pool (for the multi-instance coordination built on this store)."""
        if self._pool is None:
            raise RuntimeError("the store is not open")
        return self._pool

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        """A connection inside a transaction (rolled back on any error, cancellation included)."""
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn

    async def _fetch(self, sql: str, *params: Any) -> list[asyncpg.Record]:
        """All rows of one statement (which commits on its own)."""
        async with self.pool.acquire() as conn:
            return list(await conn.fetch(sql, *params))

    # --- interviews ---
    async def create_interview(self, record: InterviewRecord) -> None:
        """Insert; raises :class:`ActiveInterviewExists` if the key already has a non-completed one."""
        try:
            await self._fetch(pg_rows.INSERT_INTERVIEW, *pg_rows.interview_params(record, self._cipher))
        except asyncpg.UniqueViolationError as error:
            raise pg_rows.unique_error(error, record) from None

    async def bulk_create_interviews(self, records: Iterable[InterviewRecord]) -> int:
        """Insert many interviews in one ``COPY`` (imports, the benchmark); returns how many.

        Raises like :meth:`create_interview`, and then inserts none of them.
        """
        count = 0

        def values() -> Iterator[tuple[Any, ...]]:  # streamed: a million records never sit in memory at once
            nonlocal count
            for record in records:
                count += 1
                yield pg_rows.interview_params(record, self._cipher)

        try:
            async with self.pool.acquire() as conn:
                await conn.copy_records_to_table("interviews", records=values(), columns=pg_rows.COLUMN_NAMES)
        except asyncpg.UniqueViolationError as error:
            raise pg_rows.unique_error(error, None) from None
        return count

    async def update_interview(self, record: InterviewRecord) -> None:
        """Write every field of ``record`` (by ``interview_id``), except that ``turns_sent`` never goes down."""
        try:
            done = await self._fetch(pg_rows.UPDATE_INTERVIEW, *pg_rows.interview_params(record, self._cipher))
        except asyncpg.UniqueViolationError as error:
            raise pg_rows.unique_error(error, record) from None
        if not done:
            raise UnknownInterview(f"no interview {record.interview_id!r} is stored")

    async def get_interview(self, interview_id: str) -> InterviewRecord | None:
        """By interview id, whatever its status."""
        return self._one_interview(await self._fetch(pg_rows.QUERIES["get_interview"], interview_id))

    async def active_interview(self, key: ConversationKey) -> InterviewRecord | None:
        """The non-completed interview of this conversation, if any."""
        return self._one_interview(await self._fetch(pg_rows.QUERIES["active_interview"], *rows.key_params(key)))

    async def latest_interview(self, key: ConversationKey) -> InterviewRecord | None:
        """The most recent interview of this conversation, whatever its status."""
        return self._one_interview(await self._fetch(pg_rows.QUERIES["latest_interview"], *rows.key_params(key)))

    async def interviews_of_user(self, platform: str, user: str, limit: int = 20) -> list[InterviewRecord]:
        """A user's interviews on a platform, newest first."""
        return self._interviews(await self._fetch(pg_rows.QUERIES["interviews_of_user"], platform, user, limit))

    async def unfinished_interviews(self) -> list[InterviewRecord]:
        """Every non-completed interview, oldest first."""
        return self._interviews(await self._fetch(pg_rows.QUERIES["unfinished_interviews"]))

    async def resumable_interviews(self) -> list[InterviewRecord]:
        """Active interviews with a turn in flight or queued messages, and completing ones."""
        return self._interviews(await self._fetch(pg_rows.QUERIES["resumable_interviews"]))

    async def due_interviews(self, now: float, limit: int = 100) -> list[InterviewRecord]:
        """Active interviews whose ``nudge_at`` or ``expires_at`` is at or before ``now``, most overdue first."""
        return self._interviews(await self._fetch(pg_rows.QUERIES["due_interviews"], now, limit))

    def _interviews(self, found: Iterable[rows.Row]) -> list[InterviewRecord]:
        return [rows.interview_from_row(row, self._cipher) for row in found]

    def _one_interview(self, found: list[asyncpg.Record]) -> InterviewRecord | None:
        return rows.interview_from_row(found[0], self._cipher) if found else None

    # --- messages and turns ---
    async def enqueue_message(
        self, interview_id: str, content: str, now: float, answer: dict[str, Any] | None = None, *, event: Seen = None
    ) -> QueuedMessage:
        """Keep a respondent message until it is sent; ``event`` is marked seen in the same transaction."""
        sql = (
            "INSERT INTO queued_messages (interview_id, content, answer, created_at) "
            "VALUES ($1, $2, $3, $4) RETURNING id"
        )
        stored_answer = None if answer is None else rows.dump_json(answer)
        try:
            async with self._transaction() as conn:
                message_id = await conn.fetchval(sql, interview_id, content, stored_answer, now)
                if event is not None:
                    await conn.execute(_MARK_EVENT, *event, now)
        except asyncpg.ForeignKeyViolationError:
            raise UnknownInterview(f"no interview {interview_id!r} is stored") from None
        return QueuedMessage(id=message_id, interview_id=interview_id, content=content, created_at=now, answer=answer)

    async def queued_messages(self, interview_id: str) -> list[QueuedMessage]:
        """Messages not yet sent (nor in flight), oldest first."""
        found = await self._fetch(pg_rows.QUERIES["queued_messages"], interview_id)
        return [rows.message_from_row(row) for row in found]

    async def begin_turn(
        self, interview_id: str, now: float, joiner: str = "\n\n", lease: TurnLease | None = None
    ) -> Turn | None:
        """Atomically turn queued messages into the turn in flight and return it (see :class:`Store`)."""
        owner, until = (lease.owner, lease.until) if lease is not None else (None, None)
        async with self._transaction() as conn:
            # the interview's row lock: concurrent begin_turn calls, here or in another instance, take turns
            sent = await conn.fetchval(
                "SELECT turns_sent FROM interviews WHERE interview_id = $1 FOR UPDATE", interview_id
            )
            if sent is None:
                return None
            in_flight = await conn.fetchrow(pg_rows.QUERIES["turn_claim"], interview_id)
            if in_flight is not None:
                if rows.held_by_another(in_flight, lease, now):
                    return None
                claim = "UPDATE turns SET owner = $1, lease_until = $2 WHERE id = $3"
                await conn.execute(claim, owner, until, in_flight[0])
                return rows.turn_from_row(in_flight, resumed=True)
            queued = [
                rows.message_from_row(row) for row in await conn.fetch(pg_rows.QUERIES["queued_messages"], interview_id)
            ]
            if not queued:
                return None
            batch = rows.next_batch(queued)
            content = batch[0].content if batch[0].answer is not None else joiner.join(m.content for m in batch)
            answer = batch[0].answer
            turn_id = int(
                await conn.fetchval(
                    "INSERT INTO turns (interview_id, content, answer, created_at, turns_before, owner, lease_until) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    interview_id,
                    content,
                    rows.dump_optional(answer),
                    now,
                    int(sent),
                    owner,
                    until,
                )
            )
            # the batch is a run at the head of the queue: every untaken message between its first and last id
            await conn.execute(
                "UPDATE queued_messages SET turn_id = $1 "
                "WHERE interview_id = $2 AND turn_id IS NULL AND id BETWEEN $3 AND $4",
                turn_id,
                interview_id,
                batch[0].id,
                batch[-1].id,
            )
            return Turn(turn_id, interview_id, content, now, answer, int(sent))

    async def turn_in_flight(self, interview_id: str) -> Turn | None:
        """The turn stored by ``begin_turn`` and not yet finished."""
        found = await self._fetch(pg_rows.QUERIES["turn_in_flight"], interview_id)
        return rows.turn_from_row(found[0]) if found else None

    async def finish_turn(self, turn_id: int, reply: str | None, now: float) -> None:
        """The turn is done: mirror the respondent text and ``reply`` (if any) into the transcript, count it.

        All in one transaction; a second call for the same turn (here or in another instance) does nothing.
        """
        async with self._transaction() as conn:
            found = await conn.fetchrow(
                "DELETE FROM turns WHERE id = $1 RETURNING id, interview_id, content, created_at, answer, turns_before",
                turn_id,
            )  # its messages go with it
            if found is None:
                return
            turn = rows.turn_from_row(found)
            lines = [(turn.interview_id, "respondent", turn.content, turn.created_at)]
            if reply:
                lines.append((turn.interview_id, "interviewer", reply, now))
            await self._insert_lines(conn, lines)
            await conn.execute(
                "UPDATE interviews SET turns_sent = turns_sent + 1 WHERE interview_id = $1", turn.interview_id
            )

    async def renew_turn_leases(self, owner: str, until: float, interview_ids: Sequence[str]) -> int:
        """Extend to ``until`` the leases ``owner`` holds on the turns of ``interview_ids``; returns how many."""
        sql = "UPDATE turns SET lease_until = $1 WHERE owner = $2 AND interview_id = ANY($3::text[])"
        async with self.pool.acquire() as conn:
            status = await conn.execute(sql, until, owner, list(interview_ids))
        return int(status.split()[-1])  # "UPDATE <count>"

    async def release_turn(self, turn_id: int, owner: str) -> None:
        """``owner`` stops running the turn: it stays in flight, unclaimed."""
        sql = "UPDATE turns SET owner = NULL, lease_until = NULL WHERE id = $1 AND owner = $2"
        await self._fetch(sql, turn_id, owner)

    async def lapsed_turns(self, now: float, limit: int = 100) -> list[str]:
        """Interviews whose turn in flight has a lease that ran out before ``now``."""
        return [str(row[0]) for row in await self._fetch(pg_rows.QUERIES["lapsed_turns"], now, limit)]

    async def stranded_interviews(self, before: float, limit: int = 100) -> list[str]:
        """Interviews with messages queued before ``before`` and no turn in flight."""
        return [str(row[0]) for row in await self._fetch(pg_rows.QUERIES["stranded_interviews"], before, limit)]

    async def requeue_turn(self, turn_id: int) -> None:
        """The turn provably never reached the API: put its messages back at the head of the queue."""
        async with self._transaction() as conn:
            # they keep their ids, which are older than anything queued since: they are at the head again
            await conn.execute("UPDATE queued_messages SET turn_id = NULL WHERE turn_id = $1", turn_id)
            await conn.execute("DELETE FROM turns WHERE id = $1", turn_id)

    # --- questions ---
    async def set_pending_question(self, question: StoredQuestion) -> None:
        """Replace the interview's pending question."""
        sql = (
            "INSERT INTO pending_questions (interview_id, question_id, question, asked_at) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (interview_id) DO UPDATE SET question_id = excluded.question_id, "
            "question = excluded.question, asked_at = excluded.asked_at"
        )
        params = (question.interview_id, question.question_id, rows.dump_json(question.question), question.asked_at)
        try:
            await self._fetch(sql, *params)
        except asyncpg.ForeignKeyViolationError:
            raise UnknownInterview(f"no interview {question.interview_id!r} is stored") from None

    async def pending_question(self, interview_id: str) -> StoredQuestion | None:
        """The question waiting for an answer, if any."""
        found = await self._fetch(pg_rows.QUERIES["pending_question"], interview_id)
        return rows.question_from_row(found[0]) if found else None

    async def resolve_question(self, interview_id: str, question_id: str) -> bool:
        """Atomically clear the pending question if it is ``question_id``; True for the one caller who did."""
        sql = "DELETE FROM pending_questions WHERE interview_id = $1 AND question_id = $2 RETURNING 1"
        return bool(await self._fetch(sql, interview_id, question_id))

    # --- platform events ---
    async def mark_event(self, platform: str, event_id: str, now: float) -> bool:
        """Remember a platform event id; False if it was seen before (a redelivery), by any instance."""
        return bool(await self._fetch(_MARK_EVENT + " RETURNING 1", platform, event_id, now))

    async def event_seen(self, platform: str, event_id: str) -> bool:
        """True if the event id was marked (by ``mark_event`` or ``enqueue_message``), by any instance."""
        sql = "SELECT 1 FROM seen_events WHERE platform = $1 AND event_id = $2"
        return bool(await self._fetch(sql, platform, event_id))

    async def prune_events(self, before: float) -> int:
        """Forget event ids older than ``before``; returns how many were removed."""
        async with self.pool.acquire() as conn:
            status = await conn.execute(pg_rows.QUERIES["prune_events"], before)
        return int(status.split()[-1])  # "DELETE <count>"

    # --- transcript mirror: storage.pg_privacy (encrypted at rest with a key) ---

    # --- adapter key/value ---
    async def put_state(self, scope: str, key: str, value: dict[str, Any] | None) -> None:
        """Set (or with None, delete) a small JSON value."""
        if value is None:
            await self._fetch("DELETE FROM adapter_state WHERE scope = $1 AND key = $2", scope, key)
            return
        sql = (
            "INSERT INTO adapter_state (scope, key, value) VALUES ($1, $2, $3) "
            "ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value"
        )
        await self._fetch(sql, scope, key, rows.dump_json(value))

    async def get_state(self, scope: str, key: str) -> dict[str, Any] | None:
        """Read a value written by ``put_state``."""
        found = await self._fetch(pg_rows.QUERIES["get_state"], scope, key)
        return rows.load_json(found[0][0]) if found else None
