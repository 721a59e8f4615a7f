"""Rows of the SQLite backend ⇄ the records of :mod:`bot.core.store`, and the SQL that reads them.

The read queries live here, by name, so the tests can check with ``EXPLAIN QUERY PLAN`` that each one is an
index search, exactly as the store runs it.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Protocol

from bot.core.keys import ConversationKey
from bot.core.store import (
    ActiveInterviewExists,
    InterviewRecord,
    QueuedMessage,
    RecordStatus,
    StoredQuestion,
    TranscriptLine,
    Turn,
    TurnLease,
)
from storage.crypto import TokenCipher

INTERVIEW_COLUMNS = (
    "interview_id, platform, workspace, channel, user_id, session_token, token_encrypted, status, study, locale, "
    "created_at, updated_at, last_activity_at, nudge_at, expires_at, exit_requested, turns_sent, "
    "completion_reason, completed_at, failed_turn, platform_state"
)
_SELECT = f"SELECT {INTERVIEW_COLUMNS} FROM interviews"
_KEY = "platform = ? AND workspace = ? AND channel = ? AND user_id = ?"

INSERT_INTERVIEW = (
    f"INSERT INTO interviews ({INTERVIEW_COLUMNS}) VALUES ({', '.join('?' * len(INTERVIEW_COLUMNS.split(',')))})"
)
# turns_sent only grows, and finish_turn owns it: a record read before a turn finished must not undo the count
UPDATE_INTERVIEW = (
    "UPDATE interviews SET platform = ?, workspace = ?, channel = ?, user_id = ?, session_token = ?, "
    "token_encrypted = ?, status = ?, study = ?, locale = ?, created_at = ?, updated_at = ?, "
    "last_activity_at = ?, nudge_at = ?, expires_at = ?, exit_requested = ?, turns_sent = max(turns_sent, ?), "
    "completion_reason = ?, completed_at = ?, failed_turn = ?, platform_state = ? "
    "WHERE interview_id = ? RETURNING 1"
)

RENEW_LEASES = "UPDATE turns SET lease_until = ? WHERE owner = ? AND interview_id IN (SELECT value FROM json_each(?))"
RELEASE_TURN = "UPDATE turns SET owner = NULL, lease_until = NULL WHERE id = ? AND owner = ?"

QUERIES: dict[str, str] = {
    "get_interview": f"{_SELECT} WHERE interview_id = ?",
    "active_interview": f"{_SELECT} WHERE {_KEY} AND status <> 'completed'",
    "latest_interview": f"{_SELECT} WHERE {_KEY} ORDER BY created_at DESC, id DESC LIMIT 1",
    "interviews_of_user": f"{_SELECT} WHERE platform = ? AND user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
    # without INDEXED BY the planner scans the table rather than the (small) partial index of open interviews
    "unfinished_interviews": (f"{_SELECT} INDEXED BY interviews_open_by_key WHERE status <> 'completed' ORDER BY id"),
    # what start-up must resume: driven by the small tables of work in flight, not by every open interview
    "resumable_interviews": (
        f"{_SELECT} WHERE status = 'active' AND interview_id IN "
        "(SELECT interview_id FROM turns UNION SELECT interview_id FROM queued_messages WHERE turn_id IS NULL) "
        f"UNION ALL {_SELECT} INDEXED BY interviews_open_by_key WHERE status <> 'completed' AND status = 'completing'"
    ),
    # the inactivity sweep: a range scan of the partial index of active interviews by their earlier deadline
    "due_interviews": f"{_SELECT} WHERE status = 'active' AND due_at <= ? ORDER BY due_at, id LIMIT ?",
    "queued_messages": (
        "SELECT id, interview_id, content, created_at, answer FROM queued_messages "
        "WHERE interview_id = ? AND turn_id IS NULL ORDER BY id"
    ),
    "turn_in_flight": (
        "SELECT id, interview_id, content, created_at, answer, turns_before FROM turns WHERE interview_id = ?"
    ),
    "turn_claim": (
        "SELECT id, interview_id, content, created_at, answer, turns_before, owner, lease_until FROM turns "
        "WHERE interview_id = ?"
    ),
    "lapsed_turns": (
        "SELECT interview_id FROM turns WHERE owner IS NOT NULL AND lease_until < ? ORDER BY lease_until LIMIT ?"
    ),
    "stranded_interviews": (
        "SELECT DISTINCT q.interview_id FROM queued_messages q WHERE q.turn_id IS NULL AND q.created_at < ? "
        "AND NOT EXISTS (SELECT 1 FROM turns t WHERE t.interview_id = q.interview_id) LIMIT ?"
    ),
    "turn_by_id": "SELECT id, interview_id, content, created_at, answer, turns_before FROM turns WHERE id = ?",
    "turns_sent": "SELECT turns_sent FROM interviews WHERE interview_id = ?",
    "pending_question": (
        "SELECT interview_id, question_id, question, asked_at FROM pending_questions WHERE interview_id = ?"
    ),
    "transcript": "SELECT interview_id, role, content, at FROM transcript WHERE interview_id = ? ORDER BY id",
    "get_state": "SELECT value FROM adapter_state WHERE scope = ? AND key = ?",
    "prune_events": "DELETE FROM seen_events WHERE seen_at < ?",
}
"""Named statements whose plans the tests check (parameters are bound in the order of the ``?``)."""


class Row(Protocol):
    """A row as both drivers return it (``sqlite3.Row``, ``asyncpg.Record``): its columns by position."""

    def __getitem__(self, index: int, /) -> Any: ...


def dump_json(value: dict[str, Any]) -> str:
    """Compact JSON for a column."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def dump_optional(value: dict[str, Any] | None) -> str | None:
    """:func:`dump_json`, or None for None."""
    return None if value is None else dump_json(value)


def load_json(text: str | None) -> dict[str, Any] | None:
    """The dict stored by :func:`dump_json`, or None."""
    if text is None:
        return None
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("a JSON column holds something other than an object")
    return value


def key_params(key: ConversationKey) -> tuple[str, str, str, str]:
    """The parameters of ``_KEY`` for one conversation key."""
    return (key.platform, key.workspace, key.channel, key.user)


def interview_params(record: InterviewRecord, cipher: TokenCipher) -> tuple[Any, ...]:
    """The values of :data:`INTERVIEW_COLUMNS` for ``record`` (the session token sealed by ``cipher``)."""
    token, encrypted = cipher.seal(record.session_token)
    return (
        record.interview_id,
        *key_params(record.key),
        token,
        int(encrypted),
        RecordStatus(record.status).value,
        record.study,
        record.locale,
        record.created_at,
        record.updated_at,
        record.last_activity_at,
        record.nudge_at,
        record.expires_at,
        int(record.exit_requested),
        record.turns_sent,
        record.completion_reason,
        record.completed_at,
        int(record.failed_turn),
        dump_json(record.platform_state),
    )


def update_params(record: InterviewRecord, cipher: TokenCipher) -> tuple[Any, ...]:
    """The parameters of :data:`UPDATE_INTERVIEW` (every column but the id, then the id)."""
    values = interview_params(record, cipher)
    return (*values[1:], values[0])


def interview_from_row(row: Row, cipher: TokenCipher) -> InterviewRecord:
    """An :class:`InterviewRecord` from a row of :data:`INTERVIEW_COLUMNS`."""
    interview_id = str(row[0])
    return InterviewRecord(
        key=ConversationKey(row[1], row[2], row[3], row[4]),
        interview_id=interview_id,
        session_token=cipher.open(row[5], bool(row[6]), interview_id),
        status=RecordStatus(row[7]),
        study=row[8],
        locale=row[9],
        created_at=row[10],
        updated_at=row[11],
        last_activity_at=row[12],
        nudge_at=row[13],
        expires_at=row[14],
        exit_requested=bool(row[15]),
        turns_sent=row[16],
        completion_reason=row[17],
        completed_at=row[18],
        failed_turn=bool(row[19]),
        platform_state=load_json(row[20]) or {},
    )


def next_batch(queued: list[QueuedMessage]) -> list[QueuedMessage]:
    """The head of the queue that travels as one turn: an answer alone, else the run of plain messages."""
    if queued[0].answer is not None:
        return queued[:1]
    batch: list[QueuedMessage] = []
    for message in queued:
        if message.answer is not None:
            break
        batch.append(message)
    return batch


def message_from_row(row: Row) -> QueuedMessage:
    """A :class:`QueuedMessage` from ``id, interview_id, content, created_at, answer``."""
    return QueuedMessage(id=row[0], interview_id=row[1], content=row[2], created_at=row[3], answer=load_json(row[4]))


def turn_from_row(row: Row, *, resumed: bool = False) -> Turn:
    """A :class:`Turn` from ``id, interview_id, content, created_at, answer, turns_before``."""
    return Turn(
        id=row[0],
        interview_id=row[1],
        content=row[2],
        created_at=row[3],
        answer=load_json(row[4]),
        turns_before=row[5],
        resumed=resumed,
    )


def held_by_another(row: Row, lease: TurnLease | None, now: float) -> bool:
    """True when the turn of a ``turn_claim`` row is leased to another owner whose lease still runs at ``now``."""
    owner, until = row[6], row[7]
    return lease is not None and owner is not None and owner != lease.owner and until is not None and until >= now


def question_from_row(row: Row) -> StoredQuestion:
    """A :class:`StoredQuestion` from ``interview_id, question_id, question, asked_at``."""
    return StoredQuestion(interview_id=row[0], question_id=row[1], question=load_json(row[2]) or {}, asked_at=row[3])


def line_from_row(row: Row) -> TranscriptLine:
    """A :class:`TranscriptLine` from ``interview_id, role, content, at``."""
    return TranscriptLine(interview_id=row[0], role=row[1], content=row[2], at=row[3])


def integrity_error(error: sqlite3.IntegrityError, record: InterviewRecord | None) -> Exception:
    """The storage error for a failed insert or update of an interview (no token in it)."""
    text = str(error)
    if "interviews.platform" in text:
        where = f" for {record.key.as_str()}" if record is not None else ""
        return ActiveInterviewExists(f"a non-completed interview already exists{where}")
    if "interviews.interview_id" in text:
        which = f" {record.interview_id!r}" if record is not None else ""
        return ValueError(f"interview{which} is already stored")
    return ValueError(f"the interview was not stored: {text}")
