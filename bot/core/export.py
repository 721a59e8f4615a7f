"""A study's interviews as CSV (one row per interview) or JSONL (whole transcripts with the analysis).

The respondent appears only as a pseudonymous id: HMAC-SHA256 of ``platform:user`` with a key kept in storage
(made once), so the same person has the same id across exports and the id cannot be turned back into a user id.
Cells that a spreadsheet would read as a formula (beginning with ``= + - @``, or a tab or carriage return) are
escaped with a leading apostrophe.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from bot.core.cards import answer_text
from bot.core.i18n import catalogue
from bot.core.store import AnalysisRecord, InterviewRecord, Store
from bot.core.studies import Study
from bot.core.summaries import quality_of, structured_answers, themes_of

__all__ = ["escape_cell", "export_csv", "export_jsonl", "pseudonym_key"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_KEY_SCOPE, _KEY_NAME = "export", "pseudonym_key"


def escape_cell(value: object) -> str:
    """A cell as text, with a leading ``'`` if a spreadsheet would take it for a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


async def pseudonym_key(store: Store) -> bytes:
    """The export's HMAC key (made on first use, kept in storage so ids stay stable)."""
    stored = await store.get_state(_KEY_SCOPE, _KEY_NAME)
    if stored is None:
        await store.put_state(_KEY_SCOPE, _KEY_NAME, {"key": secrets.token_hex(32)})
        stored = await store.get_state(_KEY_SCOPE, _KEY_NAME)
    assert stored is not None
    return bytes.fromhex(str(stored["key"]))


def _pseudonym(key: bytes, record: InterviewRecord) -> str:
    return hmac.new(key, f"{record.key.platform}:{record.key.user}".encode(), hashlib.sha256).hexdigest()[:20]


def _when(moment: float | None) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z") if moment else ""


async def _rows(store: Store, study: Study) -> list[tuple[InterviewRecord, AnalysisRecord | None]]:
    analyses = {a.interview_id: a for a in await store.analyses_of_study(study.id)}
    return [(record, analyses.get(record.interview_id)) for record in await store.interviews_of_study(study.id)]


async def export_csv(store: Store, study: Study) -> str:
    """One row per interview: ids, platform, pseudonymous respondent, times, ending, quality, themes, one column
    per structured question (in the order questions first appear)."""
    key = await pseudonym_key(store)
    tr = catalogue(study.locale)
    rows = await _rows(store, study)
    questions: dict[str, str] = {}
    for _, analysis in rows:
        for answer in structured_answers(analysis.analysis if analysis else None):
            questions.setdefault(answer.question_id or answer.question, answer.question)
    out = io.StringIO()
    writer = csv.writer(out)
    header = [
        "interview_id",
        "study",
        "platform",
        "respondent",
        "started_at",
        "ended_at",
        "end_reason",
        "analysis_status",
        "quality",
        "themes",
        *questions.values(),
    ]
    writer.writerow([escape_cell(cell) for cell in header])  # question texts come from the service too
    for record, analysis in rows:
        data = analysis.analysis if analysis else None
        given = {a.question_id or a.question: answer_text(a.value, tr) for a in structured_answers(data)}
        quality = quality_of(data)
        cells: list[Any] = [
            record.interview_id,
            study.id,
            record.key.platform,
            _pseudonym(key, record),
            _when(record.created_at),
            _when(record.completed_at),
            record.completion_reason or record.status.value,
            analysis.status.value if analysis else "",
            "" if quality is None else f"{quality:g}",
            "; ".join(themes_of(data)),
            *(given.get(question_id, "") for question_id in questions),
        ]
        writer.writerow([escape_cell(cell) for cell in cells])
    return out.getvalue()


async def export_jsonl(store: Store, study: Study) -> str:
    """One JSON object per line: an interview with its local transcript and its analysis."""
    key = await pseudonym_key(store)
    lines = []
    for record, analysis in await _rows(store, study):
        transcript = [
            {"role": line.role, "content": line.content, "at": _when(line.at)}
            for line in await store.transcript(record.interview_id)
        ]
        item = {
            "interview_id": record.interview_id,
            "study": study.id,
            "platform": record.key.platform,
            "respondent": _pseudonym(key, record),
            "started_at": _when(record.created_at),
            "ended_at": _when(record.completed_at),
            "end_reason": record.completion_reason,
            "transcript": transcript,
            "analysis_status": analysis.status.value if analysis else None,
            "analysis": analysis.analysis if analysis else None,
        }
        lines.append(json.dumps(item, ensure_ascii=False))
    return "".join(line + "\n" for line in lines)
