"""Results back to the team: the analysis of each completed interview is fetched, stored and posted.

Two routes land in one place (:meth:`AnalysisWatch.land`):

- **polling** ``GET /interviews/:id`` with backoff (15 s, 1 min, 5 min, then every 30 min) until the analysis is
  completed or failed. The timers live in storage and the core's sweep acts on the due ones, at low priority:
  a poll waits while the API key's budget is nearly used up by conversations;
- **the signed webhook** (``interview.analysis_ready``), verified by the HTTP layer and handed to
  :meth:`AnalysisWatch.receive_event`; each event is handled once.

Then the study's results channel gets a summary card, or, in an anonymous study, nothing until ``min_responses``
interviews are analysed and then only aggregates (posted at every multiple of ``min_responses``, so no post
differs from the one before by a single person).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.api.errors import InterviewApiError, NotFound
from bot.core.cards import aggregate_card, summary_card
from bot.core.context import CoreContext
from bot.core.i18n import catalogue
from bot.core.ports import ResultsCard, ResultsChannel
from bot.core.posted_cards import Card, PostedCards
from bot.core.request_budget import RequestBudget
from bot.core.store import AnalysisRecord, AnalysisStatus, InterviewRecord
from bot.core.studies import Study
from bot.core.summaries import tally

__all__ = ["POLL_BACKOFF", "AnalysisWatch", "EventVerdict"]

log = logging.getLogger("bot.core.results")

#: Seconds from completion to each poll of the analysis; the last step repeats.
POLL_BACKOFF = (15.0, 60.0, 300.0, 1800.0)
#: Polls give way while fewer than this share of the key's requests per window are free.
POLL_RESERVE = 0.25
#: The platform name under which webhook event ids are remembered (each handled once).
WEBHOOK_EVENTS = "koji-webhook"


class EventVerdict(StrEnum):
    """What a (verified) webhook event did."""

    LANDED = "landed"  # an analysis was stored
    DUPLICATE = "duplicate"  # the event was handled before
    UNKNOWN_INTERVIEW = "unknown_interview"  # not one of ours: ignored
    IGNORED = "ignored"  # another event type, or no analysis in it


@dataclass(frozen=True, slots=True)
class _Landing:
    status: AnalysisStatus
    analysis: dict[str, Any] | None


class AnalysisWatch:
    """Watches completed interviews until their analysis is stored, then posts it as the study says."""

    def __init__(self, ctx: CoreContext) -> None:
        self._ctx = ctx

    async def watch(self, record: InterviewRecord) -> None:
        """An interview completed: poll for its analysis from 15 s on (a webhook may bring it sooner)."""
        now = self._ctx.clock.now()
        if record.completion_reason == "gone":
            return
        await self._ctx.store.watch_analysis(record.interview_id, record.study, now + POLL_BACKOFF[0], now)

    async def poll_due(self) -> int:
        """Poll the due analyses (low priority in each key's budget); returns how many were asked for."""
        asked = 0
        for due in await self._ctx.store.due_analyses(self._ctx.clock.now()):
            client = self._ctx.client_for(due.study)
            budget = client.budget
            if isinstance(budget, RequestBudget) and budget.available() <= budget.limit * POLL_RESERVE:
                continue  # conversations first: try again at the next sweep
            asked += 1
            try:
                details = await client.get(due.interview_id, caller="analysis-poll")
            except NotFound:
                await self.land(due.interview_id, AnalysisStatus.FAILED, None)
                continue
            except InterviewApiError as error:
                log.info("analysis poll failed interview=%s: %s", due.interview_id, error.code)
                await self._backoff(due)
                continue
            if details.analysis_status == "completed" and details.analysis is not None:
                await self.land(due.interview_id, AnalysisStatus.COMPLETED, details.analysis)
            elif details.analysis_status == "failed":
                await self.land(due.interview_id, AnalysisStatus.FAILED, None)
            else:
                await self._backoff(due)
        return asked

    async def _backoff(self, due: AnalysisRecord) -> None:
        """The next poll, later each time (a webhook that landed the analysis meanwhile wins: nothing changes)."""
        attempts = due.attempts + 1
        now = self._ctx.clock.now()
        step = POLL_BACKOFF[min(attempts, len(POLL_BACKOFF) - 1)]
        await self._ctx.store.reschedule_analysis(due.interview_id, attempts, now + step, now)

    async def receive_event(self, event: dict[str, Any]) -> EventVerdict:
        """A verified webhook event: store an ``interview.analysis_ready`` analysis, once per event id."""
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        assert isinstance(data, dict)
        interview_id = str(data.get("interview_id") or data.get("interviewId") or "")
        event_id = str(event.get("id") or "")
        if event_id and not await self._ctx.store.mark_event(WEBHOOK_EVENTS, event_id, self._ctx.clock.now()):
            return EventVerdict.DUPLICATE
        if not interview_id or await self._ctx.store.get_interview(interview_id) is None:
            return EventVerdict.UNKNOWN_INTERVIEW
        kind = str(event.get("event") or event.get("type") or "")
        analysis = data.get("analysis")
        if kind != "interview.analysis_ready" or not isinstance(analysis, dict):
            return EventVerdict.IGNORED
        landed = await self.land(interview_id, AnalysisStatus.COMPLETED, analysis)
        return EventVerdict.LANDED if landed else EventVerdict.DUPLICATE

    async def land(self, interview_id: str, status: AnalysisStatus, analysis: dict[str, Any] | None) -> bool:
        """Store an analysis (whichever route brought it first) and post it; False if one was stored already."""
        ctx = self._ctx
        now = ctx.clock.now()
        interview = await ctx.store.get_interview(interview_id)
        study = interview.study if interview else None
        if not await ctx.store.settle_analysis(interview_id, study, status, analysis, now):
            return False  # the other route (or another instance) landed it first
        log.info("analysis stored interview=%s status=%s", interview_id, status.value)
        record = await ctx.store.get_analysis(interview_id)
        if status is AnalysisStatus.COMPLETED and interview is not None and record is not None:
            await self._publish(record, interview)
        return True

    async def _publish(self, record: AnalysisRecord, interview: InterviewRecord) -> None:
        study = self._ctx.studies.of_record(record.study)
        tr = catalogue(study.locale or self._ctx.config.locale)
        if not study.anonymous:  # the card names the respondent: noted, so that erasing them deletes it
            posted = await self.post(study, summary_card(study, interview, record.analysis, tr))
            await PostedCards(self._ctx).remember(interview.interview_id, posted)
        else:
            analysed = [
                a.analysis
                for a in await self._ctx.store.analyses_of_study(study.id)
                if a.status is AnalysisStatus.COMPLETED and a.analysis is not None
            ]
            if len(analysed) >= study.min_responses and len(analysed) % study.min_responses == 0:
                await self.post(study, aggregate_card(study, tally(analysed), tr))
        record.posted = True
        await self._ctx.store.save_analysis(record)

    async def post(self, study: Study, card: ResultsCard, files: tuple[Any, ...] = ()) -> list[Card]:
        """Post ``card`` to each of the study's results channels whose platform runs here; returns where it went
        (platform, channel, message id) for the platforms that say."""
        posted: list[Card] = []
        for platform, channel in study.results.channels():
            adapter = self._ctx.adapters.get(platform)
            if not isinstance(adapter, ResultsChannel):
                log.info("results of study=%s: no %s adapter running to post them", study.id, platform)
                continue
            try:
                message = await adapter.post_results(channel, card, files)
                if message is not None:
                    posted.append((platform, channel, message))
            except Exception:  # one channel failing must not stop the other, nor the sweep
                log.exception("results of study=%s could not be posted to %s", study.id, platform)
        return posted
