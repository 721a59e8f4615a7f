"""The built-in server's interviews on disk: one SQLite file, one row per interview, written on every change.

So ``interview-bridge run`` without a key survives a restart or ``kill -9`` like a real deployment: the
interviews, their engine state, transcripts and analyses come back, and so does the API key the bot uses.
The file holds session tokens and that key: it is the server's own database, never logged.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.emulator.engine import EngineState, RecordedAnswer

__all__ = ["InterviewArchive"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS emulator_interviews (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS emulator_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _state_to_json(state: EngineState) -> dict[str, Any]:
    data = asdict(state)
    data["used_rules"] = sorted(state.used_rules)
    return data


def _state_from_json(data: dict[str, Any]) -> EngineState:
    answers = {
        qid: RecordedAnswer(a["value"], a["text"], a["via"], [(f, r) for f, r in a.get("follow_ups", [])])
        for qid, a in data.get("answers", {}).items()
    }
    return EngineState(
        name=data["name"],
        index=data["index"],
        probing=data.get("probing"),
        follow_ups_used=data.get("follow_ups_used", 0),
        used_rules=set(data.get("used_rules", [])),
        not_understood=data.get("not_understood", 0),
        turn=data.get("turn", 0),
        finished=data.get("finished", False),
        answers=answers,
    )


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class InterviewArchive:
    """Reads and writes the built-in server's interviews (stdlib sqlite3: small rows, local file, WAL)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the file."""
        self._db.close()

    def api_key(self, generate: str) -> str:
        """The key this server accepts across restarts: the stored one, else ``generate`` (then stored)."""
        row = self._db.execute("SELECT value FROM emulator_meta WHERE name = 'api_key'").fetchone()
        if row is not None:
            return str(row[0])
        self._db.execute("INSERT INTO emulator_meta (name, value) VALUES ('api_key', ?)", (generate,))
        return generate

    def save(self, record: Any) -> None:
        """Write one interview (an :class:`~bot.emulator.interviews.InterviewRecord`) whole."""
        data = {
            "id": record.id,
            "session_token": record.session_token,
            "key": record.key,
            "respondent": record.respondent,
            "mode": record.mode,
            "locale": record.locale,
            "study": record.study,
            "created_at": _when(record.created_at),
            "state": _state_to_json(record.state),
            "transcript": record.transcript,
            "status": record.status,
            "is_complete": record.is_complete,
            "completion": record.completion,
            "completed_at": _when(record.completed_at),
            "analysis_status": record.analysis_status,
            "analysis": record.analysis,
            "feedback": record.feedback,
        }
        self._db.execute(
            "INSERT INTO emulator_interviews (id, data) VALUES (?, ?) "
            "ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            (record.id, json.dumps(data, separators=(",", ":"))),
        )

    def load(self) -> list[dict[str, Any]]:
        """Every stored interview as the keyword arguments of an ``InterviewRecord``."""
        found = []
        for (text,) in self._db.execute("SELECT data FROM emulator_interviews ORDER BY rowid"):
            data = json.loads(text)
            data["state"] = _state_from_json(data["state"])
            data["created_at"] = _moment(data["created_at"])
            data["completed_at"] = _moment(data["completed_at"])
            found.append(data)
        return found
