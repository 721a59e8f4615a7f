"""Rows of the handoff tables, shared by both backends (the SQL differs only in its placeholders)."""

from __future__ import annotations

from typing import Any

from bot.core.keys import ConversationKey
from bot.core.store import HandoffCallback, HandoffRecord, HandoffStatus
from storage import sqlite_rows as rows

__all__ = ["COLUMNS", "UPDATE", "WAITING", "callback", "handoff", "handoff_params", "update_params"]

COLUMNS = (
    "handoff_id, idempotency_key, conversation, study, interview_id, context, callback_url, status, end_reason, "
    "created_at, updated_at, request_hash, expires_at"
)
CALLBACK_COLUMNS = "handoff_id, event, seq, body, attempts"
#: Waiting handoffs (of one conversation when ``{where}`` names it), soonest to expire first.
WAITING = (
    "SELECT " + COLUMNS + " FROM handoffs WHERE status IN ('consent_pending', 'starting'){where} "
    "ORDER BY expires_at, handoff_id LIMIT {limit}"
)
#: The writable part of a handoff (the placeholders differ between backends).
UPDATE = "UPDATE handoffs SET status = {}, interview_id = {}, end_reason = {}, expires_at = {}, updated_at = {} "
#: Handoffs with news: accepted and the interview ended, or completed and the analysis no longer waiting.
WITH_NEWS = (
    "SELECT " + ", ".join(f"h.{c.strip()}" for c in COLUMNS.split(",")) + " FROM handoffs h "
    "JOIN interviews i ON i.interview_id = h.interview_id "
    "LEFT JOIN analyses a ON a.interview_id = h.interview_id "
    "WHERE (h.status = 'accepted' AND i.status <> 'active') "
    "OR (h.status = 'completed' AND (a.status IS NULL OR a.status <> 'waiting')) "
    "ORDER BY h.updated_at, h.handoff_id LIMIT {limit}"
)


def handoff(row: Any) -> HandoffRecord:
    """A stored row as a record."""
    return HandoffRecord(
        handoff_id=row[0],
        idempotency_key=row[1],
        key=ConversationKey.parse(row[2]),
        study=row[3],
        interview_id=row[4],
        context=rows.load_json(row[5]) or {},
        callback_url=row[6],
        status=HandoffStatus(row[7]),
        end_reason=row[8],
        created_at=float(row[9]),
        updated_at=float(row[10]),
        request_hash=row[11],
        expires_at=None if row[12] is None else float(row[12]),
    )


def handoff_params(record: HandoffRecord) -> tuple[Any, ...]:
    """The values of :data:`COLUMNS`, in order."""
    return (
        record.handoff_id,
        record.idempotency_key,
        record.key.as_str(),
        record.study,
        record.interview_id,
        rows.dump_json(record.context),
        record.callback_url,
        record.status.value,
        record.end_reason,
        record.created_at,
        record.updated_at,
        record.request_hash,
        record.expires_at,
    )


def callback(row: Any, url: str) -> HandoffCallback:
    """A claimed outbox row (:data:`CALLBACK_COLUMNS`) with its handoff's URL."""
    return HandoffCallback(handoff_id=row[0], event=row[1], seq=int(row[2]), body=row[3], url=url, attempts=int(row[4]))


def update_params(record: HandoffRecord) -> tuple[Any, ...]:
    """The values of :data:`UPDATE`'s placeholders, then the handoff's id."""
    values = (record.status.value, record.interview_id, record.end_reason, record.expires_at, record.updated_at)
    return (*values, record.handoff_id)
