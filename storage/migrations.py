"""Versioned schema migrations of the SQLite backend.

The schema version lives in ``PRAGMA user_version``. Migrations form an ordered list; each one is applied once,
in its own ``BEGIN IMMEDIATE`` transaction together with the bump of ``user_version``, so a crash in the middle
leaves the previous version intact and the next start applies it again. Never edit a released migration: append
a new one.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from storage import handoff_migration


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema: ``statements`` run in order, in one transaction."""

    version: int
    description: str
    statements: tuple[str, ...]


class SchemaTooNew(RuntimeError):
    """The database was written by a newer version of the bridge than this one."""


_INITIAL = Migration(
    1,
    "interviews, turns, queued messages, questions, transcript, seen events, adapter state",
    (
        """
        CREATE TABLE interviews (
            id INTEGER PRIMARY KEY,
            interview_id TEXT NOT NULL,
            platform TEXT NOT NULL,
            workspace TEXT NOT NULL,
            channel TEXT NOT NULL,
            user_id TEXT NOT NULL,
            session_token TEXT NOT NULL,
            token_encrypted INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL CHECK (status IN ('active', 'completing', 'completed')),
            study TEXT,
            locale TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            last_activity_at REAL NOT NULL,
            nudge_at REAL,
            expires_at REAL,
            exit_requested INTEGER NOT NULL DEFAULT 0,
            turns_sent INTEGER NOT NULL DEFAULT 0,
            completion_reason TEXT,
            completed_at REAL,
            failed_turn INTEGER NOT NULL DEFAULT 0,
            platform_state TEXT NOT NULL DEFAULT '{}',
            -- the earlier of the two deadlines: what the inactivity sweep orders by
            due_at REAL GENERATED ALWAYS AS
                (min(coalesce(nudge_at, expires_at), coalesce(expires_at, nudge_at))) VIRTUAL
        )
        """,
        "CREATE UNIQUE INDEX interviews_by_id ON interviews (interview_id)",
        # at most one non-completed interview per conversation key, enforced by the database itself
        """
        CREATE UNIQUE INDEX interviews_open_by_key ON interviews (platform, workspace, channel, user_id)
            WHERE status <> 'completed'
        """,
        "CREATE INDEX interviews_by_key ON interviews (platform, workspace, channel, user_id, created_at)",
        "CREATE INDEX interviews_by_user ON interviews (platform, user_id, created_at)",
        "CREATE INDEX interviews_due ON interviews (due_at) WHERE status = 'active'",
        # the turn in flight: deleted when finished (its text lives on in the transcript) or requeued
        """
        CREATE TABLE turns (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            interview_id TEXT NOT NULL REFERENCES interviews (interview_id) ON DELETE CASCADE,
            content TEXT NOT NULL,
            answer TEXT,
            created_at REAL NOT NULL,
            turns_before INTEGER NOT NULL
        )
        """,
        # at most one turn in flight per interview
        "CREATE UNIQUE INDEX turns_in_flight ON turns (interview_id)",
        # queued messages: turn_id is set while they travel in a turn, and they go with it when it is finished
        """
        CREATE TABLE queued_messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            interview_id TEXT NOT NULL REFERENCES interviews (interview_id) ON DELETE CASCADE,
            content TEXT NOT NULL,
            answer TEXT,
            created_at REAL NOT NULL,
            turn_id INTEGER REFERENCES turns (id) ON DELETE CASCADE
        )
        """,
        "CREATE INDEX queued_by_interview ON queued_messages (interview_id, id) WHERE turn_id IS NULL",
        "CREATE INDEX queued_by_turn ON queued_messages (turn_id)",
        """
        CREATE TABLE pending_questions (
            interview_id TEXT PRIMARY KEY REFERENCES interviews (interview_id) ON DELETE CASCADE,
            question_id TEXT NOT NULL,
            question TEXT NOT NULL,
            asked_at REAL NOT NULL
        ) WITHOUT ROWID
        """,
        """
        CREATE TABLE transcript (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            interview_id TEXT NOT NULL REFERENCES interviews (interview_id) ON DELETE CASCADE,
            role TEXT NOT NULL,
            content TEXT NOT NULL,
            at REAL NOT NULL
        )
        """,
        "CREATE INDEX transcript_by_interview ON transcript (interview_id, id)",
        """
        CREATE TABLE seen_events (
            platform TEXT NOT NULL,
            event_id TEXT NOT NULL,
            seen_at REAL NOT NULL,
            PRIMARY KEY (platform, event_id)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX seen_events_by_time ON seen_events (seen_at)",
        """
        CREATE TABLE adapter_state (
            scope TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (scope, key)
        ) WITHOUT ROWID
        """,
    ),
)

_TURN_LEASES = Migration(
    2,
    "turn leases: the instance running a turn in flight, and until when",
    (
        "ALTER TABLE turns ADD COLUMN owner TEXT",
        "ALTER TABLE turns ADD COLUMN lease_until REAL",
        "CREATE INDEX turns_by_lease ON turns (lease_until) WHERE owner IS NOT NULL",
    ),
)

_SHARED_BUDGET = Migration(
    3,
    "the request window each API key shares across instances (used with PostgreSQL)",
    (
        "CREATE TABLE api_budget (id INTEGER PRIMARY KEY, key TEXT NOT NULL, expires_at REAL NOT NULL)",
        "CREATE INDEX api_budget_by_key ON api_budget (key, expires_at)",
    ),
)

_ANALYSES = Migration(
    4,
    "analyses of completed interviews (polling timers), interviews by study",
    (
        """
        CREATE TABLE analyses (
            interview_id TEXT PRIMARY KEY,
            study TEXT,
            status TEXT NOT NULL CHECK (status IN ('waiting', 'completed', 'failed')),
            analysis TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_poll_at REAL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            posted INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID
        """,
        "CREATE INDEX analyses_due ON analyses (next_poll_at) WHERE status = 'waiting'",
        "CREATE INDEX analyses_by_study ON analyses (study, created_at)",
        "CREATE INDEX interviews_by_study ON interviews (study, created_at)",
    ),
)

_INVITATIONS = Migration(
    5,
    "invitation campaigns, invitees (their state and next timer) and opt-outs per workspace",
    (
        """
        CREATE TABLE campaigns (
            campaign_id TEXT PRIMARY KEY,
            study TEXT NOT NULL,
            platform TEXT NOT NULL,
            workspace TEXT NOT NULL,
            created_at REAL NOT NULL,
            reminders INTEGER NOT NULL,
            reminder_after TEXT NOT NULL,
            audience TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE invitations (
            id INTEGER PRIMARY KEY,
            campaign_id TEXT NOT NULL,
            study TEXT NOT NULL,
            platform TEXT NOT NULL,
            workspace TEXT NOT NULL,
            user_id TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('queued', 'invited', 'reminded', 'started', 'completed',
                'declined', 'opted_out', 'undeliverable', 'expired')),
            reminders_sent INTEGER NOT NULL DEFAULT 0,
            next_at REAL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            opted_in INTEGER NOT NULL DEFAULT 0
        )
        """,
        # nobody is invited twice to a study
        "CREATE UNIQUE INDEX invitations_by_person ON invitations (study, platform, workspace, user_id)",
        # the sender's timers: only rows with something due are in the index
        "CREATE INDEX invitations_due ON invitations (next_at) WHERE next_at IS NOT NULL",
        "CREATE INDEX invitations_by_study ON invitations (study, state)",
        "CREATE INDEX invitations_by_user ON invitations (platform, workspace, user_id)",
        "CREATE INDEX interviews_by_study_user ON interviews (study, platform, user_id)",
        """
        CREATE TABLE invitation_opt_outs (
            platform TEXT NOT NULL,
            workspace TEXT NOT NULL,
            user_id TEXT NOT NULL,
            opted_out_at REAL NOT NULL,
            PRIMARY KEY (platform, workspace, user_id)
        )
        """,
    ),
)

_HANDOFFS = Migration(
    6,
    "handoffs from other bots and the outbox of their callbacks",
    (
        """
        CREATE TABLE handoffs (
            handoff_id TEXT PRIMARY KEY,
            idempotency_key TEXT UNIQUE,
            conversation TEXT NOT NULL,
            study TEXT NOT NULL,
            interview_id TEXT NOT NULL,
            context TEXT NOT NULL,
            callback_url TEXT,
            status TEXT NOT NULL CHECK (status IN ('accepted', 'completed', 'analysed')),
            end_reason TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )
        """,
        "CREATE INDEX handoffs_open ON handoffs (created_at) WHERE status <> 'analysed'",
        "CREATE INDEX handoffs_by_interview ON handoffs (interview_id)",
        """
        CREATE TABLE handoff_callbacks (
            handoff_id TEXT NOT NULL REFERENCES handoffs (handoff_id),
            event TEXT NOT NULL,
            seq INTEGER NOT NULL,
            body TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            done_at REAL,
            delivered INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            PRIMARY KEY (handoff_id, event)
        )
        """,
        "CREATE INDEX handoff_callbacks_due ON handoff_callbacks (next_attempt_at) WHERE done_at IS NULL",
    ),
)


_PRIVACY = Migration(
    7,
    "consent records, the erasure log, encrypted transcript lines",
    (
        """
        CREATE TABLE consents (
            platform TEXT NOT NULL,
            workspace TEXT NOT NULL,
            user_id TEXT NOT NULL,
            study TEXT NOT NULL,
            decision TEXT NOT NULL CHECK (decision IN ('asked', 'agreed', 'declined')),
            at REAL NOT NULL,
            request TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (platform, workspace, user_id, study)
        )
        """,
        "CREATE INDEX consents_by_study ON consents (study, decision)",
        # a salted hash of a forgotten person and when: all that is left of them (a re-import can be refused)
        """
        CREATE TABLE erasures (
            erasure TEXT PRIMARY KEY,
            erased_at REAL NOT NULL
        )
        """,
        "ALTER TABLE transcript ADD COLUMN content_encrypted INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX interviews_ended ON interviews (completed_at) WHERE status = 'completed'",
    ),
)

_INVITATION_SENDING = Migration(
    8,
    "the message being sent to an invitee (0: the invitation, n: reminder n), so a crash mid-send is checked, not lost",
    (
        "ALTER TABLE invitations ADD COLUMN sending INTEGER",
        # an invitation claimed before this version (queued, due later than its creation) may have been sent
        "UPDATE invitations SET sending = 0 WHERE state = 'queued' AND next_at > created_at",
    ),
)

_HANDOFF_CONSENT = Migration(
    9,
    handoff_migration.DESCRIPTION,
    handoff_migration.sqlite(next(s for s in _HANDOFFS.statements if "handoff_callbacks (" in s)),
)

_BUDGET_AHEAD = Migration(
    10,
    "the shared request window books ahead: when a booking may be sent, and whether its end is final",
    (
        "ALTER TABLE api_budget ADD COLUMN starts_at REAL NOT NULL DEFAULT 0",
        "ALTER TABLE api_budget ADD COLUMN settled INTEGER NOT NULL DEFAULT 0",
    ),
)

MIGRATIONS: tuple[Migration, ...] = (
    _INITIAL,
    _TURN_LEASES,
    _SHARED_BUDGET,
    _ANALYSES,
    _INVITATIONS,
    _HANDOFFS,
    _PRIVACY,
    _INVITATION_SENDING,
    _HANDOFF_CONSENT,
    _BUDGET_AHEAD,
)
"""Every migration, oldest first; versions are 1, 2, 3, … without gaps."""


def check_order(migrations: Sequence[Migration]) -> None:
    """Raise ValueError unless versions run 1, 2, 3, … in order."""
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise ValueError(f"migration {migration.description!r} has version {migration.version}, not {expected}")


async def rollback_quietly(db: aiosqlite.Connection) -> None:
    """Roll back the open transaction, if there is one (after an error, which must not be masked)."""
    with contextlib.suppress(sqlite3.Error):  # no transaction was open: the failing statement ended it
        await db.execute("ROLLBACK")


async def schema_version(db: aiosqlite.Connection) -> int:
    """The version the database is at (0: empty)."""
    rows = list(await db.execute_fetchall("PRAGMA user_version"))
    return int(rows[0][0])


async def migrate(db: aiosqlite.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Apply the migrations the database lacks, each once and in its own transaction; returns their versions.

    ``db`` must be in autocommit mode (``isolation_level=None``) with no transaction open. Safe against another
    process migrating the same file at the same time: the version is read again under the write lock.
    """
    check_order(migrations)
    latest = len(migrations)
    current = await schema_version(db)
    if current > latest:
        raise SchemaTooNew(
            f"the database is at schema version {current}, this version of interview-bridge knows up to {latest}"
        )
    applied: list[int] = []
    for migration in migrations[current:]:
        await db.execute("BEGIN IMMEDIATE")
        try:
            if await schema_version(db) >= migration.version:  # another process got there first
                await db.execute("ROLLBACK")
                continue
            for statement in migration.statements:
                await db.execute(statement)
            await db.execute(f"PRAGMA user_version = {int(migration.version)}")
            await db.execute("COMMIT")
        except BaseException:
            await rollback_quietly(db)
            raise
        applied.append(migration.version)
    return applied
