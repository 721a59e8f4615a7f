"""The built-in server's interviews: start, accept a message, complete, describe.

Kept in memory, and written to an :class:`~bot.emulator.archive.InterviewArchive` on every change when the
server has one (``EmulatorConfig.database``).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.emulator.archive import InterviewArchive
from bot.emulator.brief import Brief
from bot.emulator.engine import EngineState, InterviewEngine, Reply


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class InterviewRecord:
    """One interview and everything said in it."""

    id: str
    session_token: str = field(repr=False)  # secrets stay out of reprs and logs
    key: str = field(repr=False)
    respondent: dict[str, Any]
    mode: str
    locale: str | None
    study: str
    created_at: datetime = field(default_factory=_now)
    state: EngineState = field(default_factory=EngineState)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    status: str = "active"
    is_complete: bool = False
    completion: dict[str, Any] | None = None
    completed_at: datetime | None = None
    analysis_status: str | None = None
    analysis: dict[str, Any] | None = None
    feedback: dict[str, Any] | None = None

    @property
    def turn_count(self) -> int:
        """Respondent messages so far."""
        return sum(1 for e in self.transcript if e["role"] == "respondent")

    def add(self, role: str, content: str, question: dict[str, Any] | None = None) -> dict[str, Any]:
        """Append a transcript entry."""
        entry: dict[str, Any] = {
            "id": f"msg_{len(self.transcript) + 1}",
            "role": role,
            "content": content,
            "created_at": _iso(_now()),
        }
        if question is not None:
            entry["question"] = question
        self.transcript.append(entry)
        return entry

    def stats(self) -> dict[str, int]:
        """Counts and duration, as the complete endpoint documents them."""
        end = self.completed_at or _now()
        respondent = self.turn_count
        return {
            "duration_seconds": int((end - self.created_at).total_seconds()),
            "respondent_messages": respondent,
            "interviewer_messages": len(self.transcript) - respondent,
            "total_messages": len(self.transcript),
        }


class InterviewBook:
    """Every interview of one server, run by one brief."""

    def __init__(self, brief: Brief, archive: InterviewArchive | None = None) -> None:
        self.brief = brief
        self.engine = InterviewEngine(brief)
        self.interviews: dict[str, InterviewRecord] = {}
        self.archive = archive
        if archive is not None:
            for data in archive.load():
                record = InterviewRecord(**data)
                self.interviews[record.id] = record

    def save(self, record: InterviewRecord) -> None:
        """Keep ``record`` as it is now (when the server has an archive)."""
        if self.archive is not None:
            self.archive.save(record)

    def start(
        self, key: str, respondent: dict[str, Any], mode: str, locale: str | None
    ) -> tuple[InterviewRecord, Reply]:
        """Open an interview and compute its opening message."""
        record = InterviewRecord(
            id=str(uuid.uuid4()),
            session_token=f"st_live_{secrets.token_urlsafe(18)}",
            key=key,
            respondent=respondent,
            mode=mode,
            locale=locale or self.brief.study.language,
            study=self.brief.study.id,
        )
        opening = self.engine.opening(record.state, respondent.get("display_name"))
        record.add("interviewer", opening.text, opening.question.model_dump(mode="json") if opening.question else None)
        self.interviews[record.id] = record
        self.save(record)
        return record, opening

    def accept(self, record: InterviewRecord, text: str, answer: dict[str, Any] | None) -> Reply:
        """Take the respondent's message and store the reply at once (so a cut stream is recoverable)."""
        record.add("respondent", text)
        reply = self.engine.respond(record.state, text, answer)
        record.add("interviewer", reply.text, reply.question.model_dump(mode="json") if reply.question else None)
        if reply.finished:
            record.status, record.is_complete = "completed", True
        elif record.state.index == len(self.brief.questions) - 1:
            record.status = "completing"  # on the last question: the interviewer is wrapping up
        self.save(record)
        return reply

    def complete(
        self, record: InterviewRecord, reason: str, feedback: dict[str, Any] | None
    ) -> tuple[dict[str, Any], bool]:
        """Complete (idempotent): the completion body and whether this call did it."""
        if record.completion is not None:
            return record.completion, False
        record.completed_at = _now()
        record.status, record.is_complete = "completed", True
        record.feedback = feedback
        record.analysis_status = "processing"
        record.completion = {
            "interview_id": record.id,
            "status": "completed",
            "completed_at": _iso(record.completed_at),
            "analysis_status": "processing",
            "reason": reason,
            "stats": record.stats(),
        }
        self.save(record)
        return record.completion, True

    def details(self, record: InterviewRecord, *, old_roles: bool = False) -> dict[str, Any]:
        """The body of ``GET /interviews/:id``."""
        roles = {"interviewer": "assistant", "respondent": "user"} if old_roles else {}
        transcript = [{**e, "role": roles.get(e["role"], e["role"])} for e in record.transcript]
        body: dict[str, Any] = {
            "interview_id": record.id,
            "status": record.status,
            "is_complete": record.is_complete,
            "turn_count": record.turn_count,
            "mode": record.mode,
            "locale": record.locale,
            "study": record.study,
            "created_at": _iso(record.created_at),
            "completed_at": _iso(record.completed_at) if record.completed_at else None,
            "respondent": record.respondent,
            "metadata": record.respondent.get("metadata", {}),
            "transcript": transcript,
            "analysis_status": record.analysis_status,
            "stats": record.stats(),
        }
        if record.completion is not None:
            body["completion_reason"] = record.completion.get("reason")
        if record.analysis is not None:
            body["analysis"] = record.analysis
            body["quality_score"] = record.analysis.get("quality_score")
        return body
