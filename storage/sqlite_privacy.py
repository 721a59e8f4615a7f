"""The SQLite part of the privacy port: consent records, erasure of one person, retention, encrypted transcripts."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import aiosqlite

from bot.core.privacy_store import ConsentDecision, ConsentRecord
from bot.core.store import TranscriptLine, UnknownInterview
from storage import privacy_rows as prows
from storage.crypto import TokenCipher

__all__ = ["PrivacyTables"]

#: Tables whose rows belong to an interview (by ``interview_id``), counted before the interviews are deleted.
INTERVIEW_TABLES = ("transcript", "queued_messages", "turns", "pending_questions", "analyses")
#: Tables with the person's platform, workspace and user id in every row (interviews last: the others name them).
PERSON_TABLES = ("consents", "invitations", "invitation_opt_outs", "interviews")
_OF_PERSON = "SELECT interview_id FROM interviews WHERE platform = ? AND user_id = ? AND (? IS NULL OR workspace = ?)"
_CONVERSATION = "(conversation LIKE ? AND conversation LIKE ?)"  # platform:workspace:…, …:user


class PrivacyTables:
    """Mixed into :class:`storage.sqlite.SQLiteStore`."""

    if TYPE_CHECKING:  # provided by the store
        _cipher: TokenCipher

        async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]: ...

        def _transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...

    # --- transcript mirror, encrypted at rest when a key is configured ---
    async def append_transcript(self, interview_id: str, role: str, content: str, now: float) -> None:
        """Add one line to the local transcript mirror."""
        sealed, encrypted = self._cipher.seal(content)
        sql = "INSERT INTO transcript (interview_id, role, content, at, content_encrypted) VALUES (?, ?, ?, ?, ?)"
        try:
            await self._fetch(sql, (interview_id, role, sealed, now, int(encrypted)))
        except sqlite3.IntegrityError:
            raise UnknownInterview(f"no interview {interview_id!r} is stored") from None

    async def _insert_lines(self, db: aiosqlite.Connection, lines: list[tuple[str, str, str, float]]) -> None:
        sealed = [(i, role, *self._cipher.seal(text), at) for i, role, text, at in lines]
        await db.executemany(
            "INSERT INTO transcript (interview_id, role, content, content_encrypted, at) VALUES (?, ?, ?, ?, ?)",
            [(i, role, text, int(encrypted), at) for i, role, text, encrypted, at in sealed],
        )

    async def transcript(self, interview_id: str) -> list[TranscriptLine]:
        """The local mirror, oldest first."""
        sql = (
            "SELECT interview_id, role, content, at, content_encrypted FROM transcript WHERE interview_id = ? "
            "ORDER BY id"
        )
        return [prows.line_from_row(self._cipher, row) for row in await self._fetch(sql, (interview_id,))]

    # --- consent ---
    async def save_consent(self, record: ConsentRecord) -> None:
        """Insert or replace the person's consent record for ``record.study``."""
        sql = (
            f"INSERT INTO consents ({prows.CONSENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, workspace, user_id, study) DO UPDATE SET "
            "decision = excluded.decision, at = excluded.at, request = excluded.request"
        )
        await self._fetch(sql, prows.consent_params(record))

    async def consents_of(self, platform: str, workspace: str, user: str) -> list[ConsentRecord]:
        """Every consent record of one person, oldest first."""
        sql = (
            f"SELECT {prows.CONSENT_COLUMNS} FROM consents WHERE platform = ? AND workspace = ? AND user_id = ? "
            "ORDER BY at"
        )
        return [prows.consent_from_row(row) for row in await self._fetch(sql, (platform, workspace, user))]

    async def consent_counts(self, study: str) -> dict[ConsentDecision, int]:
        """How many people are at each decision for ``study``."""
        found = await self._fetch("SELECT decision, count(*) FROM consents WHERE study = ? GROUP BY decision", (study,))
        return {ConsentDecision(row[0]): int(row[1]) for row in found}

    # --- erasure ---
    async def forget_user(
        self, platform: str, workspace: str | None, user: str, erasure: str, now: float
    ) -> dict[str, int]:
        """Erase everything stored about one person (``workspace`` None: in any workspace); see the Store port."""
        person = (platform, user, workspace, workspace)
        removed: dict[str, int] = {}
        async with self._transaction() as db:
            # handoffs name the person's interviews, or (still waiting, declined, expired) their conversation
            conversation = (*person, prows.conversation_prefix(platform, workspace), f"%:{user}")
            handoffs = f"SELECT handoff_id FROM handoffs WHERE interview_id IN ({_OF_PERSON}) OR {_CONVERSATION}"
            cursor = await db.execute(f"DELETE FROM handoff_callbacks WHERE handoff_id IN ({handoffs})", conversation)
            removed["handoff_callbacks"] = cursor.rowcount
            cursor = await db.execute(f"DELETE FROM handoffs WHERE handoff_id IN ({handoffs})", conversation)
            removed["handoffs"] = cursor.rowcount
            for table in INTERVIEW_TABLES:  # their rows name the person's interviews
                cursor = await db.execute(f"DELETE FROM {table} WHERE interview_id IN ({_OF_PERSON})", person)
                removed[table] = cursor.rowcount
            for table in PERSON_TABLES:  # their rows name the person
                cursor = await db.execute(
                    f"DELETE FROM {table} WHERE platform = ? AND user_id = ? AND (? IS NULL OR workspace = ?)", person
                )
                removed[table] = cursor.rowcount
            cursor = await db.execute(
                "DELETE FROM adapter_state WHERE scope NOT IN (?, ?) AND (instr(key, ?) > 0 OR instr(value, ?) > 0)",
                (*prows.KEPT_SCOPES, user, user),
            )
            removed["adapter_state"] = cursor.rowcount
            await db.execute(
                "INSERT INTO erasures (erasure, erased_at) VALUES (?, ?) "
                "ON CONFLICT (erasure) DO UPDATE SET erased_at = excluded.erased_at",
                (erasure, now),
            )
        return removed

    async def erased_at(self, erasure: str) -> float | None:
        """When the person with this erasure hash was forgotten (None: never)."""
        found = await self._fetch("SELECT erased_at FROM erasures WHERE erasure = ?", (erasure,))
        return float(found[0][0]) if found else None

    async def erased_of(self, erasures: Sequence[str]) -> set[str]:
        """Which of these erasure hashes are in the erasure log."""
        found: set[str] = set()
        for start in range(0, len(erasures), 500):  # within SQLite's limit of bound parameters
            batch = erasures[start : start + 500]
            marks = ", ".join("?" * len(batch))
            rows = await self._fetch(f"SELECT erasure FROM erasures WHERE erasure IN ({marks})", batch)
            found |= {str(row[0]) for row in rows}
        return found

    # --- retention ---
    async def purge_ended_before(self, cutoff: float) -> int:
        """Delete the transcript lines (and analyses) of interviews completed before ``cutoff``."""
        ended = "SELECT interview_id FROM interviews WHERE status = 'completed' AND completed_at < ?"
        async with self._transaction() as db:
            found = await db.execute_fetchall(
                f"SELECT count(DISTINCT interview_id) FROM transcript WHERE interview_id IN ({ended})", (cutoff,)
            )
            purged = int(next(iter(found))[0])
            await db.execute(f"DELETE FROM transcript WHERE interview_id IN ({ended})", (cutoff,))
            await db.execute(f"DELETE FROM analyses WHERE interview_id IN ({ended})", (cutoff,))
        return purged
