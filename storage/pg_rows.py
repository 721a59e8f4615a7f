"""The SQL of the PostgreSQL backend, and its rows ⇄ the records of :mod:`bot.core.store`.

The read queries live here, by name, so the tests can check with ``EXPLAIN`` that each one is an index search,
exactly as the store runs it. Rows are read with the converters of :mod:`storage.sqlite_rows` (asyncpg records
index like tuples); only the flags differ on the way in: PostgreSQL stores them as ``BOOLEAN``.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from bot.core.store import ActiveInterviewExists, InterviewRecord
from storage import sqlite_rows
from storage.crypto import TokenCipher

INTERVIEW_COLUMNS = sqlite_rows.INTERVIEW_COLUMNS
COLUMN_NAMES: tuple[str, ...] = tuple(name.strip() for name in INTERVIEW_COLUMNS.split(","))
_FLAGS = frozenset(COLUMN_NAMES.index(name) for name in ("token_encrypted", "exit_requested", "failed_turn"))
_SELECT = f"SELECT {INTERVIEW_COLUMNS} FROM interviews"
_KEY = "platform = $1 AND workspace = $2 AND channel = $3 AND user_id = $4"

INSERT_INTERVIEW = (
    f"INSERT INTO interviews ({INTERVIEW_COLUMNS}) "
    f"VALUES ({', '.join(f'${n}' for n in range(1, len(COLUMN_NAMES) + 1))})"
)
# turns_sent only grows, and finish_turn owns it: a record read before a turn finished must not undo the count
UPDATE_INTERVIEW = (
    "UPDATE interviews SET platform = $2, workspace = $3, channel = $4, user_id = $5, session_token = $6, "
    "token_encrypted = $7, status = $8, study = $9, locale = $10, created_at = $11, updated_at = $12, "
    "last_activity_at = $13, nudge_at = $14, expires_at = $15, exit_requested = $16, "
    "turns_sent = GREATEST(turns_sent, $17), completion_reason = $18, completed_at = $19, failed_turn = $20, "
    "platform_state = $21 WHERE interview_id = $1 RETURNING 1"
)

QUERIES: dict[str, str] = {
    "get_interview": f"{_SELECT} WHERE interview_id = $1",
    "active_interview": f"{_SELECT} WHERE {_KEY} AND status <> 'completed'",
    "latest_interview": f"{_SELECT} WHERE {_KEY} ORDER BY created_at DESC, id DESC LIMIT 1",
    "interviews_of_user": f"{_SELECT} WHERE platform = $1 AND user_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3",
    # the partial index of open interviews holds exactly these rows
    "unfinished_interviews": f"{_SELECT} WHERE status <> 'completed' ORDER BY id",
    # what start-up must resume: driven by the small tables of work in flight, not by every open interview
    "resumable_interviews": (
        f"{_SELECT} WHERE status = 'active' AND interview_id IN "
        "(SELECT interview_id FROM turns UNION SELECT interview_id FROM queued_messages WHERE turn_id IS NULL) "
        f"UNION ALL {_SELECT} WHERE status <> 'completed' AND status = 'completing'"
    ),
    # the inactivity sweep: a range scan of the partial index of active interviews by their earlier deadline
    "due_interviews": f"{_SELECT} WHERE status = 'active' AND due_at <= $1 ORDER BY due_at, id LIMIT $2",
    "queued_messages": (
        "SELECT id, interview_id, content, created_at, answer FROM queued_messages "
        "WHERE interview_id = $1 AND turn_id IS NULL ORDER BY id"
    ),
    "turn_in_flight": (
        "SELECT id, interview_id, content, created_at, answer, turns_before FROM turns WHERE interview_id = $1"
    ),
    "turn_claim": (
        "SELECT id, interview_id, content, created_at, answer, turns_before, owner, lease_until FROM turns "
        "WHERE interview_id = $1"
    ),
    "lapsed_turns": (
        "SELECT interview_id FROM turns WHERE owner IS NOT NULL AND lease_until < $1 ORDER BY lease_until LIMIT $2"
    ),
    "stranded_interviews": (
        "SELECT DISTINCT q.interview_id FROM queued_messages q WHERE q.turn_id IS NULL AND q.created_at < $1 "
        "AND NOT EXISTS (SELECT 1 FROM turns t WHERE t.interview_id = q.interview_id) LIMIT $2"
    ),
    "turn_by_id": "SELECT id, interview_id, content, created_at, answer, turns_before FROM turns WHERE id = $1",
    "turns_sent": "SELECT turns_sent FROM interviews WHERE interview_id = $1",
    "pending_question": (
        "SELECT interview_id, question_id, question, asked_at FROM pending_questions WHERE interview_id = $1"
    ),
    "transcript": "SELECT interview_id, role, content, at FROM transcript WHERE interview_id = $1 ORDER BY id",
    "get_state": "SELECT value FROM adapter_state WHERE scope = $1 AND key = $2",
    "prune_events": "DELETE FROM seen_events WHERE seen_at < $1",
}
"""Named statements whose plans the tests check."""


def interview_params(record: InterviewRecord, cipher: TokenCipher) -> tuple[Any, ...]:
    """The values of :data:`INTERVIEW_COLUMNS` for ``record`` (the session token sealed by ``cipher``)."""
    values = sqlite_rows.interview_params(record, cipher)
    return tuple(bool(value) if n in _FLAGS else value for n, value in enumerate(values))


def unique_error(error: asyncpg.UniqueViolationError, record: InterviewRecord | None) -> Exception:
    """The storage error for a failed insert or update of an interview (no token in it)."""
    if error.constraint_name == "interviews_open_by_key":
        where = f" for {record.key.as_str()}" if record is not None else ""
        return ActiveInterviewExists(f"a non-completed interview already exists{where}")
    if error.constraint_name == "interviews_by_id":
        which = f" {record.interview_id!r}" if record is not None else ""
        return ValueError(f"interview{which} is already stored")
    return ValueError(f"the interview was not stored: {error.constraint_name}")
