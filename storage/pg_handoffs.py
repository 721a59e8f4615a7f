"""The PostgreSQL tables of handoffs and the outbox of their callbacks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import asyncpg

from bot.core.keys import ConversationKey
from bot.core.store import HandoffCallback, HandoffRecord
from storage import handoff_rows as h

__all__ = ["PgHandoffTables"]

_SELECT = f"SELECT {h.COLUMNS} FROM handoffs"
#: Due, not done, and no earlier callback of the same handoff still waiting; rows another instance holds skipped.
_DUE = (
    "SELECT c.handoff_id, c.event FROM handoff_callbacks c WHERE c.done_at IS NULL AND c.next_attempt_at <= $2 "
    "AND NOT EXISTS (SELECT 1 FROM handoff_callbacks e WHERE e.handoff_id = c.handoff_id AND e.seq < c.seq "
    "AND e.done_at IS NULL) ORDER BY c.next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED"
)


class PgHandoffTables:
    """Mixed into :class:`storage.postgres.PostgresStore`: the handoff part of the Store port."""

    if TYPE_CHECKING:  # provided by the store

        async def _fetch(self, sql: str, *params: Any) -> list[asyncpg.Record]: ...

    async def create_handoff(self, record: HandoffRecord) -> HandoffRecord:
        """Insert; with an ``idempotency_key`` already stored, nothing is written and that handoff is returned."""
        placeholders = ", ".join(f"${n}" for n in range(1, len(h.COLUMNS.split(",")) + 1))
        sql = f"INSERT INTO handoffs ({h.COLUMNS}) VALUES ({placeholders}) ON CONFLICT DO NOTHING RETURNING 1"
        if await self._fetch(sql, *h.handoff_params(record)):
            return record
        if record.idempotency_key is not None:
            found = await self.handoff_by_idempotency_key(record.idempotency_key)
            if found is not None:
                return found
        raise ValueError(f"handoff {record.handoff_id!r} is already stored")

    async def get_handoff(self, handoff_id: str) -> HandoffRecord | None:
        """One handoff by its id."""
        found = await self._fetch(f"{_SELECT} WHERE handoff_id = $1", handoff_id)
        return h.handoff(found[0]) if found else None

    async def handoff_by_idempotency_key(self, idempotency_key: str) -> HandoffRecord | None:
        """The handoff a request with this ``Idempotency-Key`` made, if any."""
        found = await self._fetch(f"{_SELECT} WHERE idempotency_key = $1", idempotency_key)
        return h.handoff(found[0]) if found else None

    async def update_handoff(self, record: HandoffRecord) -> None:
        """Write its status, interview id, end reason, expiry and update time."""
        await self._fetch(
            h.UPDATE.format("$1", "$2", "$3", "$4", "$5") + "WHERE handoff_id = $6", *h.update_params(record)
        )

    async def delete_handoff(self, handoff_id: str) -> None:
        """Remove a handoff that never got anywhere (its start was refused) with its callbacks."""
        await self._fetch("DELETE FROM handoff_callbacks WHERE handoff_id = $1", handoff_id)
        await self._fetch("DELETE FROM handoffs WHERE handoff_id = $1", handoff_id)

    async def waiting_handoffs(self, key: ConversationKey | None = None, limit: int = 100) -> list[HandoffRecord]:
        """Handoffs still waiting (``consent_pending``, ``starting``), of ``key`` alone if given; soonest to expire
        first."""
        if key is None:
            found = await self._fetch(h.WAITING.format(where="", limit="$1"), limit)
        else:
            found = await self._fetch(h.WAITING.format(where=" AND conversation = $1", limit="$2"), key.as_str(), limit)
        return [h.handoff(row) for row in found]

    async def handoffs_with_news(self, limit: int = 100) -> list[HandoffRecord]:
        """Handoffs with news to reconcile: an accepted one whose interview ended, a completed one whose analysis is
        no longer waiting (or has no record), least recently looked at first."""
        found = await self._fetch(h.WITH_NEWS.format(limit="$1"), limit)
        return [h.handoff(row) for row in found]

    async def handoffs_since(self, since: float) -> list[float]:
        """The creation times of handoffs made since ``since``, oldest first (the rate limit's window)."""
        found = await self._fetch("SELECT created_at FROM handoffs WHERE created_at > $1 ORDER BY created_at", since)
        return [float(row[0]) for row in found]

    async def add_callback(self, handoff_id: str, event: str, seq: int, body: str, now: float) -> bool:
        """Queue a callback (once per handoff and event: False if it was already queued)."""
        sql = (
            "INSERT INTO handoff_callbacks (handoff_id, event, seq, body, next_attempt_at, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING RETURNING 1"
        )
        return bool(await self._fetch(sql, handoff_id, event, seq, body, now))

    async def claim_callbacks(self, now: float, lease: float, limit: int = 20) -> list[HandoffCallback]:
        """Due callbacks whose earlier ones are done, each held for ``lease`` seconds (another sweep skips it)."""
        sql = (
            "UPDATE handoff_callbacks u SET next_attempt_at = $1 FROM handoffs d "
            f"WHERE d.handoff_id = u.handoff_id AND (u.handoff_id, u.event) IN ({_DUE}) "
            "RETURNING u.handoff_id, u.event, u.seq, u.body, u.attempts, d.callback_url"
        )
        claimed = await self._fetch(sql, now + lease, now, limit)
        found = (h.callback(row, row[5] or "") for row in claimed)
        return sorted(found, key=lambda c: (c.handoff_id, c.seq))

    async def callback_done(self, handoff_id: str, event: str, now: float, *, delivered: bool) -> None:
        """Delivered (or given up on): never tried again."""
        sql = "UPDATE handoff_callbacks SET done_at = $1, delivered = $2 WHERE handoff_id = $3 AND event = $4"
        await self._fetch(sql, now, delivered, handoff_id, event)

    async def callback_retry(self, handoff_id: str, event: str, attempts: int, next_attempt_at: float) -> None:
        """Try again at ``next_attempt_at``."""
        sql = "UPDATE handoff_callbacks SET attempts = $1, next_attempt_at = $2 WHERE handoff_id = $3 AND event = $4"
        await self._fetch(sql, attempts, next_attempt_at, handoff_id, event)
