"""Handing a user over from another bot into an interview, and telling that bot how it went.

:meth:`Handoffs.hand_over` opens the person's DM, checks the study and starts the interview there with the
context as the respondent's metadata; the handoff is stored with an ``accepted`` callback in the outbox.
:meth:`Handoffs.reconcile` (swept) reads the store, never memory: an ended interview queues ``completed``, a
stored analysis queues ``analysed``, so nothing is lost across a restart. The lifecycle hook ``on_ended``
resolves the handles of in-process handoffs (:meth:`HandoffHandle.wait_ended`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from bot.core.choosing import StudyGate
from bot.core.context import CoreContext
from bot.core.endings import EndReason
from bot.core.events import InboundEvent, Outcome, OutcomeKind, Start
from bot.core.handoff_types import (
    DirectMessages,
    HandoffCode,
    HandoffError,
    HandoffRequest,
    HandoffSummary,
    context_problem,
)
from bot.core.keys import ConversationKey
from bot.core.locks import KeyedLocks
from bot.core.ports import RespondentUnreachable
from bot.core.store import AnalysisStatus, HandoffRecord, HandoffStatus, InterviewRecord, RecordStatus
from bot.core.summaries import quality_of, structured_answers, themes_of

__all__ = ["HandoffHandle", "Handoffs"]

log = logging.getLogger("bot.core.handoff")

#: Handoffs a minute, across instances (counted in the store); more get ``rate_limited`` with ``Retry-After``.
DEFAULT_RATE_LIMIT = 30
#: An ended interview whose analysis never comes (the service lost it) stops being watched after this long.
ANALYSIS_PATIENCE = 7 * 24 * 3600.0
_SEQ = {"accepted": 1, "completed": 2, "analysed": 3}


class HandoffHandle:
    """A running handoff, for a bot that embeds the bridge: its ids, and :meth:`wait_ended`."""

    def __init__(self, handoffs: Handoffs, record: HandoffRecord) -> None:
        self.handoff_id = record.handoff_id
        self.interview_id = record.interview_id
        self.key = record.key
        self._handoffs = handoffs

    async def wait_ended(self) -> HandoffSummary:
        """Wait until the interview ends (however it ends); its summary, as the ``completed`` callback has it."""
        return await self._handoffs.wait_ended(self.handoff_id, self.interview_id)


class Handoffs:
    """Starts handed-over interviews and keeps their callbacks in the store's outbox."""

    def __init__(
        self,
        ctx: CoreContext,
        gate: StudyGate,
        handle: Callable[[InboundEvent], Awaitable[Outcome]],
        end: Callable[[ConversationKey, EndReason], Awaitable[Outcome]],
    ) -> None:
        self._ctx = ctx
        self._gate = gate
        self._handle = handle
        self._end = end
        self.rate_limit = DEFAULT_RATE_LIMIT
        self._requests = KeyedLocks()
        self._waiting: dict[str, list[tuple[str, asyncio.Future[HandoffSummary]]]] = {}
        ctx.hooks.ended.append(self._ended)

    def now(self) -> float:
        """The core's clock."""
        return self._ctx.clock.now()

    # --- starting ---

    async def hand_over(self, request: HandoffRequest) -> HandoffHandle:
        """Start the interview in the person's DM; raises :class:`HandoffError` saying why not."""
        problem = context_problem(request.context)
        if problem is not None:
            raise HandoffError(HandoffCode.INVALID_REQUEST, problem)
        async with self._requests.hold(request.idempotency_key or uuid.uuid4().hex):
            if request.idempotency_key:  # the same request again: the same handoff
                found = await self._ctx.store.handoff_by_idempotency_key(request.idempotency_key)
                if found is not None:
                    return HandoffHandle(self, found)
            return HandoffHandle(self, await self._start(request))

    async def _start(self, request: HandoffRequest) -> HandoffRecord:
        ctx = self._ctx
        study = ctx.studies.get(request.study)
        if study is None:
            known = ", ".join(s.id for s in ctx.studies.studies)
            raise HandoffError(HandoffCode.INVALID_REQUEST, f"no study {request.study!r}; studies: {known}")
        adapter = ctx.adapters.get(request.platform)
        if not isinstance(adapter, DirectMessages):
            raise HandoffError(HandoffCode.INVALID_REQUEST, f"this bot does not serve {request.platform!r}")
        await self._check_rate()
        try:
            key, respondent = await adapter.open_direct(request.workspace, request.user)
        except RespondentUnreachable as error:
            raise HandoffError(HandoffCode.USER_UNREACHABLE, f"the user cannot be messaged: {error}") from None
        running = await ctx.store.active_interview(key)
        if running is not None:
            raise HandoffError(
                HandoffCode.ALREADY_IN_INTERVIEW,
                "the user is in an interview already",
                interview_id=running.interview_id,
            )
        refusal = await self._gate.refusal(study, key, respondent.groups, "en")
        if refusal is not None:
            raise HandoffError(HandoffCode.STUDY_CLOSED, refusal)
        respondent = dataclasses.replace(respondent, metadata={**respondent.metadata, **request.context})
        # the handing-over bot asks its user first (docs/privacy.md): the interview starts at once, as the API promises
        outcome = await self._handle(Start(key, respondent, study.id, consented=True))
        if outcome.kind is not OutcomeKind.ACCEPTED or outcome.interview_id is None:
            raise await self._refused(key, outcome)
        now = ctx.clock.now()
        record = HandoffRecord(
            handoff_id=f"ho_{uuid.uuid4().hex}",
            key=key,
            study=study.id,
            interview_id=outcome.interview_id,
            context=dict(request.context),
            callback_url=request.callback_url,
            idempotency_key=request.idempotency_key,
            created_at=now,
            updated_at=now,
        )
        record = await ctx.store.create_handoff(record)
        await self._queue(record, "accepted", {})
        log.info("handoff accepted handoff=%s interview=%s", record.handoff_id, record.interview_id)
        return record

    async def _check_rate(self) -> None:
        now = self._ctx.clock.now()
        recent = await self._ctx.store.handoffs_since(now - 60.0)
        if len(recent) >= self.rate_limit:
            wait = max(1, math.ceil(recent[-self.rate_limit] + 60.0 - now))
            raise HandoffError(
                HandoffCode.RATE_LIMITED, f"at most {self.rate_limit} handoffs a minute", retry_after=wait
            )

    async def _refused(self, key: ConversationKey, outcome: Outcome) -> HandoffError:
        message = outcome.message or outcome.kind.value
        if outcome.kind is OutcomeKind.UNREACHABLE:
            return HandoffError(HandoffCode.USER_UNREACHABLE, "the user cannot be messaged (DMs closed)")
        running = await self._ctx.store.active_interview(key)
        if running is not None:
            return HandoffError(
                HandoffCode.ALREADY_IN_INTERVIEW,
                "the user is in an interview already",
                interview_id=running.interview_id,
            )
        if outcome.kind is OutcomeKind.REJECTED:
            return HandoffError(HandoffCode.STUDY_CLOSED, message)
        return HandoffError(HandoffCode.UNAVAILABLE, "the interview could not be started; try again later")

    # --- reading and cancelling ---

    async def get(self, handoff_id: str) -> HandoffRecord:
        """The stored handoff; raises ``not_found``."""
        record = await self._ctx.store.get_handoff(handoff_id)
        if record is None:
            raise HandoffError(HandoffCode.NOT_FOUND, "no such handoff")
        return record

    async def cancel(self, handoff_id: str) -> HandoffRecord:
        """End the handoff's interview with reason ``manual`` (the person is thanked); the record afterwards."""
        record = await self.get(handoff_id)
        interview = await self._ctx.store.get_interview(record.interview_id)
        if interview is not None and interview.status is RecordStatus.ACTIVE:
            await self._end(record.key, EndReason.MANUAL)
        await self.reconcile()
        return await self.get(handoff_id)

    # --- the outbox (timers in storage, swept) ---

    async def reconcile(self) -> int:
        """Queue what the store says happened: ``completed`` for ended interviews, ``analysed`` for stored
        analyses. Idempotent; returns how many handoffs moved on."""
        moved = 0
        for record in await self._ctx.store.handoffs_with_news():
            interview = await self._ctx.store.get_interview(record.interview_id)
            if interview is None:
                continue
            if record.status is HandoffStatus.ACCEPTED and interview.status is not RecordStatus.ACTIVE:
                summary = summary_of(record.handoff_id, interview, self._ctx.clock.now())
                await self._queue(record, "completed", completed_body(summary))
                record.status, record.end_reason = HandoffStatus.COMPLETED, summary.end_reason
                moved += 1
            if record.status is HandoffStatus.COMPLETED and await self._analysed(record, interview):
                record.status = HandoffStatus.ANALYSED
                moved += 1
            record.updated_at = self._ctx.clock.now()  # looked at: the others come first next time
            await self._ctx.store.update_handoff(record)
        return moved

    async def _analysed(self, record: HandoffRecord, interview: InterviewRecord) -> bool:
        stored = await self._ctx.store.get_analysis(record.interview_id)
        if stored is None or stored.status is AnalysisStatus.WAITING:
            ended = interview.completed_at or interview.updated_at
            if (
                interview.status is RecordStatus.COMPLETED
                and stored is None
                and (record.end_reason == EndReason.GONE.value or self._ctx.clock.now() - ended > ANALYSIS_PATIENCE)
            ):
                await self._queue(record, "analysed", {"analysis_status": "failed"})
                return True
            return False
        study = self._ctx.studies.get(record.study)
        body: dict[str, Any] = {"analysis_status": stored.status.value}
        if study is not None and study.anonymous:
            body["anonymous"] = True
        elif stored.status is AnalysisStatus.COMPLETED:
            body.update(analysed_body(stored.analysis))
        await self._queue(record, "analysed", body)
        return True

    async def _queue(self, record: HandoffRecord, event: str, fields: dict[str, Any]) -> None:
        if not record.callback_url:
            return
        body = {"handoff_id": record.handoff_id, "event": event, "interview_id": record.interview_id}
        body.update(fields)
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        await self._ctx.store.add_callback(record.handoff_id, event, _SEQ[event], text, self._ctx.clock.now())

    # --- in-process handles ---

    async def wait_ended(self, handoff_id: str, interview_id: str) -> HandoffSummary:
        """The summary once the interview ends (at once if it already has)."""
        future: asyncio.Future[HandoffSummary] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(interview_id, []).append((handoff_id, future))
        summary = await self._summary(handoff_id, interview_id)
        if summary is not None and not future.done():
            future.set_result(summary)
        try:
            return await future
        finally:
            waiting = [w for w in self._waiting.get(interview_id, []) if w[1] is not future]
            self._waiting[interview_id] = waiting
            if not waiting:
                self._waiting.pop(interview_id, None)

    async def _summary(self, handoff_id: str, interview_id: str) -> HandoffSummary | None:
        interview = await self._ctx.store.get_interview(interview_id)
        if interview is None or interview.status is RecordStatus.ACTIVE:
            return None
        return summary_of(handoff_id, interview, self._ctx.clock.now())

    async def _ended(self, key: ConversationKey, interview_id: str, reason: EndReason) -> None:
        """``on_ended``: resolve the waiting handles; the sweep queues the callback from the store."""
        for handoff_id, future in list(self._waiting.get(interview_id, [])):
            summary = await self._summary(handoff_id, interview_id)
            if summary is not None and not future.done():
                future.set_result(summary)


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
