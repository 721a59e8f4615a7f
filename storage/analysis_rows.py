"""The analyses table's columns and rows, the same in both backends."""

from __future__ import annotations

from typing import Any

from bot.core.store import AnalysisRecord, AnalysisStatus
from storage import sqlite_rows as rows

__all__ = ["COLUMNS", "SELECT", "analysis_record"]

COLUMNS = "interview_id, study, status, analysis, attempts, next_poll_at, created_at, updated_at, posted"
SELECT = f"SELECT {COLUMNS} FROM analyses"


def analysis_record(row: Any) -> AnalysisRecord:
    """One analyses row (a sqlite3.Row or an asyncpg.Record, columns in :data:`COLUMNS` order) as a record."""
    return AnalysisRecord(
        interview_id=row[0],
        study=row[1],
        status=AnalysisStatus(row[2]),
        analysis=rows.load_json(row[3]),
        attempts=int(row[4]),
        next_poll_at=row[5],
        created_at=float(row[6]),
        updated_at=float(row[7]),
        posted=bool(row[8]),
    )
