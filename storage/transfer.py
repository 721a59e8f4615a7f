"""Copy every row of one store into another, SQLite ⇄ PostgreSQL (``interview-bridge migrate-store``).

Rows are copied as stored: ids, times, flags, and the session tokens as they sit at rest (encrypted ones stay
encrypted with the same key, so no key is needed to move them). The target is brought to the current schema
first and must hold no data; the whole import is one transaction, so a failure leaves it empty. Rows are
streamed in batches, so memory stays flat whatever the size. Rows of people in an erasure log, from before their
erasure, are left out and counted (:mod:`storage.erasure_filter`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import aiosqlite
import asyncpg

from bot.core.pseudonyms import SECRET_KEY, SECRET_SCOPE
from storage.erasure_filter import Copied, ErasureFilter, ErasureLog
from storage.locations import is_postgres, sqlite_path, store_at
from storage.pg_migrations import Connection

Kind = Literal["int", "float", "text", "bool"]
BATCH = 2000
"""Rows per batch read from the source and written to the target."""


@dataclass(frozen=True, slots=True)
class Table:
    """A table as it is copied: its columns (no generated ones), their kinds, and the order rows are read in."""

    name: str
    columns: tuple[tuple[str, Kind], ...]
    order: str
    identity: bool = False  # an id column whose sequence must follow the copied ids (PostgreSQL)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)


_INTERVIEW_COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("id", "int"), ("interview_id", "text"), ("platform", "text"), ("workspace", "text"), ("channel", "text"),
    ("user_id", "text"), ("session_token", "text"), ("token_encrypted", "bool"), ("status", "text"),
    ("study", "text"), ("locale", "text"), ("created_at", "float"), ("updated_at", "float"),
    ("last_activity_at", "float"), ("nudge_at", "float"), ("expires_at", "float"), ("exit_requested", "bool"),
    ("turns_sent", "int"), ("completion_reason", "text"), ("completed_at", "float"), ("failed_turn", "bool"),
    ("platform_state", "text"),
)  # fmt: skip

TABLES: tuple[Table, ...] = (  # parents before children (foreign keys)
    Table("interviews", _INTERVIEW_COLUMNS, "id", identity=True),
    Table(
        "turns",
        (
            ("id", "int"),
            ("interview_id", "text"),
            ("content", "text"),
            ("answer", "text"),
            ("created_at", "float"),
            ("turns_before", "int"),
            ("owner", "text"),
            ("lease_until", "float"),
        ),
        "id",
        identity=True,
    ),
    Table(
        "queued_messages",
        (
            ("id", "int"),
            ("interview_id", "text"),
            ("content", "text"),
            ("answer", "text"),
            ("created_at", "float"),
            ("turn_id", "int"),
        ),
        "id",
        identity=True,
    ),
    Table(
        "pending_questions",
        (("interview_id", "text"), ("question_id", "text"), ("question", "text"), ("asked_at", "float")),
        "interview_id",
    ),
    Table(
        "transcript",
        (
            ("id", "int"),
            ("interview_id", "text"),
            ("role", "text"),
            ("content", "text"),
            ("at", "float"),
            ("content_encrypted", "bool"),
        ),
        "id",
        identity=True,
    ),
    Table(
        "analyses",
        (
            ("interview_id", "text"),
            ("study", "text"),
            ("status", "text"),
            ("analysis", "text"),
            ("attempts", "int"),
            ("next_poll_at", "float"),
            ("created_at", "float"),
            ("updated_at", "float"),
            ("posted", "bool"),
        ),
        "interview_id",
    ),
    Table("seen_events", (("platform", "text"), ("event_id", "text"), ("seen_at", "float")), "platform, event_id"),
    Table("adapter_state", (("scope", "text"), ("key", "text"), ("value", "text")), "scope, key"),
    Table(
        "campaigns",
        (
            ("campaign_id", "text"),
            ("study", "text"),
            ("platform", "text"),
            ("workspace", "text"),
            ("created_at", "float"),
            ("reminders", "int"),
            ("reminder_after", "text"),
            ("audience", "text"),
        ),
        "campaign_id",
    ),
    Table(
        "invitations",
        (
            ("id", "int"),
            ("campaign_id", "text"),
            ("study", "text"),
            ("platform", "text"),
            ("workspace", "text"),
            ("user_id", "text"),
            ("state", "text"),
            ("reminders_sent", "int"),
            ("next_at", "float"),
            ("created_at", "float"),
            ("updated_at", "float"),
            ("opted_in", "int"),
            ("sending", "int"),
        ),
        "id",
        identity=True,
    ),
    Table(
        "invitation_opt_outs",
        (("platform", "text"), ("workspace", "text"), ("user_id", "text"), ("opted_out_at", "float")),
        "platform, workspace, user_id",
    ),
    Table(
        "handoffs",
        (
            ("handoff_id", "text"),
            ("idempotency_key", "text"),
            ("conversation", "text"),
            ("study", "text"),
            ("interview_id", "text"),
            ("context", "text"),
            ("callback_url", "text"),
            ("status", "text"),
            ("end_reason", "text"),
            ("created_at", "float"),
            ("updated_at", "float"),
            ("request_hash", "text"),
            ("expires_at", "float"),
        ),
        "handoff_id",
    ),
    Table(
        "handoff_callbacks",
        (
            ("handoff_id", "text"),
            ("event", "text"),
            ("seq", "int"),
            ("body", "text"),
            ("attempts", "int"),
            ("next_attempt_at", "float"),
            ("done_at", "float"),
            ("delivered", "bool"),
            ("created_at", "float"),
        ),
        "handoff_id, event",
    ),
    Table(
        "consents",
        (
            ("platform", "text"),
            ("workspace", "text"),
            ("user_id", "text"),
            ("study", "text"),
            ("decision", "text"),
            ("at", "float"),
            ("request", "text"),
        ),
        "platform, workspace, user_id, study",
    ),
    Table("erasures", (("erasure", "text"), ("erased_at", "float")), "erasure"),
)
"""Every table of the schema, with every stored column."""


class TargetNotEmpty(RuntimeError):
    """The target already holds data: migrate-store never merges into (or overwrites) a database in use."""


def _convert(value: Any, kind: Kind) -> Any:
    """One value as the target's driver wants it (SQLite keeps flags as 0/1 and may hand back whole floats)."""
    if value is None:
        return None
    if kind == "bool":
        return bool(value)
    if kind == "float":
        return float(value)
    if kind == "int":
        return int(value)
    return str(value)


def _select(table: Table) -> str:
    return f"SELECT {', '.join(table.names)} FROM {table.name} ORDER BY {table.order}"


async def _sqlite_rows(db: aiosqlite.Connection, table: Table) -> AsyncIterator[list[tuple[Any, ...]]]:
    async with db.execute(_select(table)) as cursor:
        while batch := [tuple(row) for row in await cursor.fetchmany(BATCH)]:
            yield batch


async def _postgres_rows(conn: Connection, table: Table) -> AsyncIterator[list[tuple[Any, ...]]]:
    async with conn.transaction(readonly=True):
        cursor = await conn.cursor(_select(table))
        while batch := await cursor.fetch(BATCH):
            yield [tuple(row) for row in batch]


Reader = Callable[[Table], AsyncIterator[list[tuple[Any, ...]]]]
Writer = Callable[[Table, list[tuple[Any, ...]]], Awaitable[None]]


_BY_NAME = {table.name: table for table in TABLES}


async def _erasure_log(read: Reader) -> ErasureLog:
    state = [row async for batch in read(_BY_NAME["adapter_state"]) for row in batch]
    return ErasureLog.of(state, [row async for batch in read(_BY_NAME["erasures"]) for row in batch])


def _check_location(location: str) -> None:
    if not is_postgres(location) and not Path(sqlite_path(location)).is_file():
        raise ValueError(f"there is no SQLite file at {sqlite_path(location)}")


async def copy_store(
    source: str,
    target: str,
    *,
    progress: Callable[[str, int], None] | None = None,
    erasures_from: Sequence[str] = (),
) -> Copied:
    """Copy every row from the store at ``source`` into the empty store at ``target``, leaving out the rows of
    people in the source's erasure log or in that of ``erasures_from`` from before their erasure
    (:mod:`storage.erasure_filter`).

    Locations are ``postgresql://…`` URLs, ``sqlite:///…`` URLs or SQLite file paths. ``progress(table, rows)``
    is called after each batch.
    """
    if source == target or target in erasures_from:
        raise ValueError("--from (or --erasures-from) and --to name the same database")
    for location in (source, *erasures_from):
        await asyncio.to_thread(_check_location, location)
    for location in (source, target):  # bring both to the current schema (creating the target's)
        async with store_at(location):
            pass
    counts: dict[str, int] = {}
    async with AsyncExitStack() as stack:
        read = await _reader(stack, source)
        own = await _erasure_log(read)
        logs = [own, *[await _erasure_log(await _reader(stack, other)) for other in erasures_from]]
        erasures = ErasureFilter(logs)
        write, check_empty = await _writer(stack, target)
        await check_empty()
        for table in sorted(TABLES, key=lambda t: t.name == "adapter_state"):  # last: it may name left-out people
            counts[table.name] = 0
            async for batch in read(table):
                converted = [
                    tuple(_convert(v, k) for v, (_, k) in zip(row, table.columns, strict=True))
                    for row in batch
                    if erasures.keep(table.name, table.names, row)
                ]
                await write(table, converted)
                counts[table.name] += len(converted)
                if progress is not None:
                    progress(table.name, counts[table.name])
        carried, adopted = erasures.carried_over(own)
        if adopted is not None:  # the source never made a secret: the carried hashes were made with this one
            await write(_BY_NAME["adapter_state"], [(SECRET_SCOPE, SECRET_KEY, json.dumps({"secret": adopted.hex()}))])
        if carried:
            await write(_BY_NAME["erasures"], carried)
    return Copied(counts, erasures.skipped, erasures.people, len(carried), erasures.unmatched(own))


async def _reader(stack: AsyncExitStack, location: str) -> Reader:
    if is_postgres(location):
        conn: Connection = await asyncpg.connect(location)
        stack.push_async_callback(conn.close)
        return lambda table: _postgres_rows(conn, table)
    db = await aiosqlite.connect(sqlite_path(location))
    stack.push_async_callback(db.close)
    return lambda table: _sqlite_rows(db, table)


async def _writer(stack: AsyncExitStack, location: str) -> tuple[Writer, Callable[[], Awaitable[None]]]:
    """A writer inside one transaction of the target (committed when ``stack`` closes without error)."""
    if is_postgres(location):
        return await _postgres_writer(stack, location)
    return await _sqlite_writer(stack, location)


async def _postgres_writer(stack: AsyncExitStack, location: str) -> tuple[Writer, Callable[[], Awaitable[None]]]:
    conn: Connection = await asyncpg.connect(location)
    stack.push_async_callback(conn.close)
    transaction = conn.transaction()
    await transaction.start()

    async def finish(exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is not None:
            await transaction.rollback()
            return
        for table in TABLES:  # new rows get ids after the copied ones
            if table.identity:
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                )
        await transaction.commit()

    stack.push_async_exit(finish)

    async def write(table: Table, rows: list[tuple[Any, ...]]) -> None:
        await conn.copy_records_to_table(table.name, records=rows, columns=table.names)

    async def check_empty() -> None:
        _refuse_if_used([await conn.fetchval(f"SELECT count(*) FROM {t.name}") for t in TABLES])

    return write, check_empty


async def _sqlite_writer(stack: AsyncExitStack, location: str) -> tuple[Writer, Callable[[], Awaitable[None]]]:
    db = await aiosqlite.connect(sqlite_path(location), isolation_level=None)
    stack.push_async_callback(db.close)
    await db.execute("PRAGMA foreign_keys = ON")
    await db.execute("BEGIN IMMEDIATE")

    async def finish(exc_type: type[BaseException] | None, *_: object) -> None:
        await db.execute("ROLLBACK" if exc_type is not None else "COMMIT")

    stack.push_async_exit(finish)

    async def write(table: Table, rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * len(table.columns))
        await db.executemany(f"INSERT INTO {table.name} ({', '.join(table.names)}) VALUES ({marks})", rows)

    async def check_empty() -> None:
        counts = []
        for t in TABLES:
            found = list(await db.execute_fetchall(f"SELECT count(*) FROM {t.name}"))
            counts.append(int(found[0][0]))
        _refuse_if_used(counts)

    return write, check_empty


def _refuse_if_used(counts: list[int]) -> None:
    if any(counts):
        raise TargetNotEmpty(f"the target database already holds {sum(counts)} rows: migrate into an empty one")
