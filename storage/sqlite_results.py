"""The SQLite tables of studies' results: analyses of completed interviews and their polling timers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from bot.core.store import AnalysisRecord, AnalysisStatus, InterviewRecord
from storage import analysis_rows
from storage import sqlite_rows as rows

__all__ = ["ResultsTables"]

_COLUMNS, _SELECT, _analysis = analysis_rows.COLUMNS, analysis_rows.SELECT, analysis_rows.analysis_record


class ResultsTables:
    """Mixed into :class:`storage.sqlite.SQLiteStore`: the results part of the Store port."""

    if TYPE_CHECKING:  # provided by the store

        async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]: ...

        def _interviews(self, found: Iterable[Sequence[Any]]) -> list[InterviewRecord]: ...

    async def interviews_of_study(self, study: str) -> list[InterviewRecord]:
        """Every interview of a study, oldest first."""
        sql = f"SELECT {rows.INTERVIEW_COLUMNS} FROM interviews WHERE study = ? ORDER BY created_at, id"
        return self._interviews(await self._fetch(sql, (study,)))

    async def watch_analysis(self, interview_id: str, study: str | None, next_poll_at: float, now: float) -> bool:
        """Start waiting for an analysis; False if it is already watched (or stored)."""
        sql = (
            f"INSERT INTO analyses ({_COLUMNS}) VALUES (?, ?, 'waiting', NULL, 0, ?, ?, ?, 0) "
            "ON CONFLICT (interview_id) DO NOTHING RETURNING 1"
        )
        return bool(await self._fetch(sql, (interview_id, study, next_poll_at, now, now)))

    async def get_analysis(self, interview_id: str) -> AnalysisRecord | None:
        """One interview's analysis record."""
        found = await self._fetch(f"{_SELECT} WHERE interview_id = ?", (interview_id,))
        return _analysis(found[0]) if found else None

    async def save_analysis(self, record: AnalysisRecord) -> None:
        """Write the whole record (insert or replace by interview id)."""
        sql = (
            f"INSERT INTO analyses ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (interview_id) DO UPDATE SET study = excluded.study, status = excluded.status, "
            "analysis = excluded.analysis, "
            "attempts = excluded.attempts, next_poll_at = excluded.next_poll_at, updated_at = excluded.updated_at, "
            "posted = excluded.posted"
        )
        analysis = rows.dump_json(record.analysis) if record.analysis is not None else None
        params = (
            record.interview_id,
            record.study,
            record.status.value,
            analysis,
            record.attempts,
            record.next_poll_at,
            record.created_at,
            record.updated_at,
            int(record.posted),
        )
        await self._fetch(sql, params)

    async def settle_analysis(
        self, interview_id: str, study: str | None, status: AnalysisStatus, analysis: dict[str, Any] | None, now: float
    ) -> bool:
        """Store the outcome once: inserted, or updated only while the record is still waiting."""
        sql = (
            f"INSERT INTO analyses ({_COLUMNS}) VALUES (?, ?, ?, ?, 0, NULL, ?, ?, 0) "
            "ON CONFLICT (interview_id) DO UPDATE SET status = excluded.status, analysis = excluded.analysis, "
            "next_poll_at = NULL, updated_at = excluded.updated_at WHERE analyses.status = 'waiting' RETURNING 1"
        )
        text = rows.dump_json(analysis) if analysis is not None else None
        return bool(await self._fetch(sql, (interview_id, study, status.value, text, now, now)))

    async def reschedule_analysis(self, interview_id: str, attempts: int, next_poll_at: float, now: float) -> bool:
        """The next poll, only while the analysis is still waiting."""
        sql = (
            "UPDATE analyses SET attempts = ?, next_poll_at = ?, updated_at = ? "
            "WHERE interview_id = ? AND status = 'waiting' RETURNING 1"
        )
        return bool(await self._fetch(sql, (attempts, next_poll_at, now, interview_id)))

    async def due_analyses(self, now: float, limit: int = 20) -> list[AnalysisRecord]:
        """Waiting analyses whose poll is due, most overdue first (through the partial index)."""
        sql = f"{_SELECT} WHERE status = 'waiting' AND next_poll_at <= ? ORDER BY next_poll_at LIMIT ?"
        return [_analysis(row) for row in await self._fetch(sql, (now, limit))]

    async def analyses_of_study(self, study: str) -> list[AnalysisRecord]:
        """Every analysis record of a study, oldest first."""
        return [_analysis(row) for row in await self._fetch(f"{_SELECT} WHERE study = ? ORDER BY created_at", (study,))]
