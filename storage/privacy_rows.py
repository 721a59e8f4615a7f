"""Rows of the privacy tables shared by both backends: consent records and encrypted transcript lines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.privacy_store import ConsentDecision, ConsentRecord
from bot.core.store import TranscriptLine
from storage import sqlite_rows as rows
from storage.crypto import TokenCipher

__all__ = [
    "CONSENT_COLUMNS",
    "KEPT_SCOPES",
    "consent_from_row",
    "consent_params",
    "conversation_prefix",
    "line_from_row",
]

#: Adapter-state scopes an erasure never touches: the per-install secrets of pseudonyms (``bot.core.pseudonyms``,
#: ``bot.core.export``) name nobody.
KEPT_SCOPES = ("install", "export")

CONSENT_COLUMNS = "platform, workspace, user_id, study, decision, at, request"


def consent_from_row(row: Sequence[Any] | Any) -> ConsentRecord:
    """A :class:`ConsentRecord` from the columns of :data:`CONSENT_COLUMNS`."""
    return ConsentRecord(
        platform=row[0],
        workspace=row[1],
        user=row[2],
        study=row[3],
        decision=ConsentDecision(row[4]),
        at=float(row[5]),
        request=rows.load_json(row[6]) or {},
    )


def consent_params(record: ConsentRecord) -> tuple[Any, ...]:
    """The values of :data:`CONSENT_COLUMNS` for ``record``."""
    return (
        record.platform,
        record.workspace,
        record.user,
        record.study,
        record.decision.value,
        record.at,
        rows.dump_json(record.request),
    )


def line_from_row(cipher: TokenCipher, row: Sequence[Any] | Any) -> TranscriptLine:
    """A transcript line from ``interview_id, role, content, at, content_encrypted`` (decrypted)."""
    content = cipher.open(row[2], bool(row[4]), row[0], "a transcript line")
    return TranscriptLine(interview_id=row[0], role=row[1], content=content, at=row[3])


def conversation_prefix(platform: str, workspace: str | None) -> str:
    """A LIKE pattern for the stored conversation keys (``platform:workspace:channel:user``) of one platform and,
    unless None, one workspace."""
    return f"{platform}:%" if workspace is None else f"{platform}:{workspace}:%"
