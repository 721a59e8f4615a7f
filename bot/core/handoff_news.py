"""What a handoff's caller hears: the callbacks queued in the store's outbox, and the summary at the end.

:class:`HandoffNews` reads the store, never memory: an ended interview queues ``completed``, a stored analysis
queues ``analysed`` (:meth:`HandoffNews.reconcile`), so nothing is lost across a restart. The events before the
interview (``accepted``, ``declined``, ``expired``) are queued by :class:`bot.core.handoff.Handoffs` as they happen.
"""

from __future__ import annotations

import json
from typing import Any

from bot.core.context import CoreContext
from bot.core.endings import EndReason
from bot.core.handoff_types import HandoffSummary
from bot.core.store import AnalysisStatus, HandoffRecord, HandoffStatus, InterviewRecord, RecordStatus
from bot.core.summaries import quality_of, structured_answers, themes_of

__all__ = ["ANALYSIS_PATIENCE", "HandoffNews", "analysed_body", "completed_body", "summary_of"]

#: An ended interview whose analysis never comes (the service lost it) stops being watched after this long.
ANALYSIS_PATIENCE = 7 * 24 * 3600.0
#: The order of a handoff's callbacks: one of the first three, then completed, then analysed.
_SEQ = {"accepted": 1, "declined": 1, "expired": 1, "completed": 2, "analysed": 3}


class HandoffNews:
    """Queues the callbacks of handoffs from what the store says happened."""

    def __init__(self, ctx: CoreContext) -> None:
        self._ctx = ctx

    async def reconcile(self) -> int:
        """``completed`` for ended interviews, ``analysed`` for stored analyses. Idempotent; returns how many
        handoffs moved on."""
        moved = 0
        for record in await self._ctx.store.handoffs_with_news():
            interview = await self._ctx.store.get_interview(record.interview_id or "")
            if interview is None:
                continue
            if record.status is HandoffStatus.ACCEPTED and interview.status is not RecordStatus.ACTIVE:
                summary = summary_of(record.handoff_id, interview, self._ctx.clock.now())
                await self.queue(record, "completed", completed_body(summary))
                record.status, record.end_reason = HandoffStatus.COMPLETED, summary.end_reason
                self._ctx.observer.handoff_changed(platform=record.key.platform, outcome="completed")
                moved += 1
            if record.status is HandoffStatus.COMPLETED and await self._analysed(record, interview):
                record.status = HandoffStatus.ANALYSED
                moved += 1
            record.updated_at = self._ctx.clock.now()  # looked at: the others come first next time
            await self._ctx.store.update_handoff(record)
        return moved

    async def _analysed(self, record: HandoffRecord, interview: InterviewRecord) -> bool:
        stored = await self._ctx.store.get_analysis(interview.interview_id)
        if stored is None or stored.status is AnalysisStatus.WAITING:
            ended = interview.completed_at or interview.updated_at
            if (
                interview.status is RecordStatus.COMPLETED
                and stored is None
                and (record.end_reason == EndReason.GONE.value or self._ctx.clock.now() - ended > ANALYSIS_PATIENCE)
            ):
                await self.queue(record, "analysed", {"analysis_status": "failed"})
                return True
            return False
        study = self._ctx.studies.get(record.study)
        body: dict[str, Any] = {"analysis_status": stored.status.value}
        if study is not None and study.anonymous:
            body["anonymous"] = True
        elif stored.status is AnalysisStatus.COMPLETED:
            body.update(analysed_body(stored.analysis))
        await self.queue(record, "analysed", body)
        return True

    async def queue(self, record: HandoffRecord, event: str, fields: dict[str, Any]) -> None:
        """Put ``event`` in the outbox (once per handoff and event), if the handoff has a callback URL."""
        if not record.callback_url:
            return
        body = {"handoff_id": record.handoff_id, "event": event, "interview_id": record.interview_id}
        body.update(fields)
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        await self._ctx.store.add_callback(record.handoff_id, event, _SEQ[event], text, self._ctx.clock.now())

    async def summary(self, handoff_id: str) -> HandoffSummary | None:
        """How the handoff ended (None: it has not yet)."""
        record = await self._ctx.store.get_handoff(handoff_id)
        if record is None:
            return None
        if record.status in (HandoffStatus.DECLINED, HandoffStatus.EXPIRED, HandoffStatus.CANCELLED):
            return HandoffSummary(handoff_id, None, record.status.value, 0, 0.0)
        if record.interview_id is None:
            return None
        interview = await self._ctx.store.get_interview(record.interview_id)
        if interview is None or interview.status is RecordStatus.ACTIVE:
            return None
        return summary_of(handoff_id, interview, self._ctx.clock.now())


def summary_of(handoff_id: str, interview: InterviewRecord, now: float) -> HandoffSummary:
    """The summary of a handed-over interview that ended."""
    ended = interview.completed_at or interview.updated_at or now
    return HandoffSummary(
        handoff_id=handoff_id,
        interview_id=interview.interview_id,
        end_reason=interview.completion_reason or EndReason.MANUAL.value,
        turns=interview.turns_sent,
        duration_seconds=round(max(0.0, ended - interview.created_at), 3),
    )


def completed_body(summary: HandoffSummary) -> dict[str, Any]:
    """The fields of the ``completed`` callback."""
    return {"end_reason": summary.end_reason, "turns": summary.turns, "duration_seconds": summary.duration_seconds}


def analysed_body(analysis: dict[str, Any] | None) -> dict[str, Any]:
    """The fields of the ``analysed`` callback: quality, themes, structured answers."""
    return {
        "quality": quality_of(analysis),
        "themes": themes_of(analysis),
        "structured_answers": [
            {"question_id": a.question_id, "question": a.question, "type": a.kind, "value": a.value}
            for a in structured_answers(analysis)
        ],
    }
