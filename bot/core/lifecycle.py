"""Start → turns → complete (any :class:`EndReason`), the inactivity deadlines, and the lifecycle hooks."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.api.errors import ApiUnavailable, InterviewApiError, NotFound, RateLimited, ServerError, Unauthorized
from bot.api.models import Respondent
from bot.core import logfields, texts
from bot.core.context import CoreContext
from bot.core.endings import EndReason
from bot.core.events import Outcome, OutcomeKind, RespondentInfo
from bot.core.i18n import catalogue
from bot.core.keys import ConversationKey
from bot.core.ports import Action, Notice, NoticeKind, PendingQuestion
from bot.core.relay import ReplyRelay
from bot.core.store import ActiveInterviewExists, InterviewRecord, RecordStatus, StoredQuestion
from bot.core.studies import Study
from bot.core.turns import TurnRunner
from bot.core.views import pending_of

log = logging.getLogger("bot.core.lifecycle")

#: In ``platform_state`` while a started interview's opening is not on screen yet.
OPENING_UNSHOWN = "opening_unshown"


class Lifecycle:
    """Starts and completes interviews; runs the inactivity sweep. Callers hold the conversation's lock."""

    def __init__(self, ctx: CoreContext, turns: TurnRunner) -> None:
        self._ctx = ctx
        self._turns = turns
        #: Called once an interview is completed on the API too (the bridge watches for its analysis).
        self.on_completed: Callable[[InterviewRecord], Awaitable[None]] | None = None

    async def _completed(self, record: InterviewRecord) -> None:
        if self.on_completed is not None:
            try:
                await self.on_completed(record)
            except Exception:  # results are extra: the interview itself ended fine
                log.exception("after-completion hook failed interview=%s", record.interview_id)

    async def start(self, key: ConversationKey, respondent: RespondentInfo, study: Study) -> Outcome:
        """Start an interview of ``study`` for ``key`` and show its opening message (consent was given already)."""
        ctx = self._ctx
        adapter = ctx.adapter(key)
        locale = respondent.locale or study.locale or ctx.config.locale
        tr = catalogue(locale)
        stream = await adapter.begin_reply(key, locale)
        relay = ReplyRelay(stream, adapter.update_interval, tr)
        try:
            started = await ctx.client_for(study.id).start(
                await self._respondent(key, respondent, study, locale),
                locale=locale,
                study=study.project,
                caller=key.as_str(),
                on_queued=relay.queued,
            )
        except InterviewApiError as error:
            log.warning("start failed platform=%s study=%s: %s", key.platform, study.id, error)
            message = texts.start_failed(tr, error)
            await relay.fail(Notice(NoticeKind.ERROR, message, (Action.NEW_INTERVIEW,), locale=locale))
            return Outcome(OutcomeKind.FAILED, message)
        now = ctx.clock.now()
        record = InterviewRecord(
            key=key,
            interview_id=started.interview_id,
            session_token=started.session_token,
            study=study.id,
            locale=locale,
            created_at=now,
            updated_at=now,
        )
        if not study.anonymous and respondent.display_name:  # named on the results card; never in anonymous ones
            record.platform_state["respondent_name"] = respondent.display_name
        ctx.set_deadlines(record)
        logfields.note(record.interview_id, record.study)
        record.platform_state[OPENING_UNSHOWN] = True  # until it is on screen (see show_opening)
        try:
            await ctx.store.create_interview(record)
        except ActiveInterviewExists:  # another bot process won the race: give this one back
            await self._complete_remote(record, EndReason.MANUAL)
            await relay.fail(Notice(NoticeKind.INFO, texts.already_running(tr), locale=locale))
            return Outcome(OutcomeKind.REJECTED, texts.already_running(tr))
        ctx.hooks.fire_started(key, record.interview_id)
        await ctx.store.append_transcript(record.interview_id, "interviewer", started.initial_message, now)
        pending = None
        if started.question is not None:
            pending = PendingQuestion(record.interview_id, started.question, key.user, locale)
            await ctx.store.set_pending_question(
                StoredQuestion(record.interview_id, started.question.id, started.question.model_dump(mode="json"), now)
            )
        await ctx.reach(record, relay.finish(started.initial_message, pending))
        record.platform_state.pop(OPENING_UNSHOWN, None)
        await ctx.store.update_interview(record)
        log.info("interview started platform=%s interview=%s", key.platform, record.interview_id)
        return Outcome(OutcomeKind.ACCEPTED, interview_id=record.interview_id)

    async def show_opening(self, record: InterviewRecord) -> None:
        """Show the opening of an interview stored but never shown: the instance that started it stopped in
        between (killed), or the platform refused it. The caller holds the lock, so no start is under way."""
        ctx = self._ctx
        said = [line.content for line in await ctx.store.transcript(record.interview_id) if line.role == "interviewer"]
        if not said:  # stopped before even the mirror had it: the API has it
            details = await ctx.client_for(record.study).get(record.interview_id, caller=record.key.as_str())
            said = [entry.content for entry in details.transcript if entry.role == "interviewer"]
        pending = pending_of(await ctx.store.pending_question(record.interview_id), record)
        adapter = ctx.adapter(record.key)
        relay = ReplyRelay(await adapter.begin_reply(record.key, record.locale), 0.0, catalogue(record.locale))
        await ctx.reach(record, relay.finish(said[0] if said else "", pending))
        record.platform_state.pop(OPENING_UNSHOWN, None)
        await ctx.store.update_interview(record)
        log.info("the opening of interview=%s was never shown: shown now", record.interview_id)

    async def _respondent(
        self, key: ConversationKey, respondent: RespondentInfo, study: Study, locale: str | None
    ) -> Respondent:
        """Who the API is told took part: an anonymous study gets a pseudonym alone (no name, no platform ids)."""
        if study.anonymous:
            pseudonym = await self._ctx.pseudonyms.external_id(key.platform, key.workspace, key.user)
            anonymous = {"platform": key.platform, "locale": locale, "anonymous": True}
            return Respondent(external_id=pseudonym, metadata={k: v for k, v in anonymous.items() if v is not None})
        metadata = {"platform": key.platform, "workspace": key.workspace or None, "locale": locale}
        metadata.update(respondent.metadata)
        return Respondent(
            external_id=respondent.external_id,
            display_name=respondent.display_name,
            metadata={k: v for k, v in metadata.items() if v is not None},
        )

    async def _ended_on_api(self, record: InterviewRecord) -> None:
        """The API completed the interview: stored as completed, its session token wiped (never needed again)."""
        record.status = RecordStatus.COMPLETED
        record.completed_at = self._ctx.clock.now()
        record.session_token = ""
        await self._ctx.store.update_interview(record)
        await self._completed(record)

    async def complete(self, record: InterviewRecord, reason: EndReason, *, notify: bool = True) -> None:
        """End the interview: stored first (resumable), then the API, then the closing message.

        The ``on_ended`` subscribers hear of it whatever happens after the end was stored.
        """
        ctx = self._ctx
        record.status = RecordStatus.COMPLETING
        record.completion_reason = reason.value
        record.exit_requested = False
        ctx.clear_deadlines(record)
        record.updated_at = ctx.clock.now()
        await ctx.store.update_interview(record)
        try:
            await self._turns.cancel(record.interview_id, texts.reply_stopped(catalogue(record.locale)))
            pending = await ctx.store.pending_question(record.interview_id)
            if pending is not None:
                await ctx.store.resolve_question(record.interview_id, pending.question_id)
            done = await self._complete_remote(record, reason)
            if done:
                await self._ended_on_api(record)
            log.info("interview completed interview=%s reason=%s api_done=%s", record.interview_id, reason, done)
            api_reason = reason.for_api()
            if notify and api_reason is not None and not ctx.unreachable(record):
                actions = (Action.NEW_INTERVIEW,) if ctx.config.after_completion.value == "offer" else ()
                text = texts.ended(catalogue(record.locale), api_reason, ctx.config.inactivity_timeout)
                notice = Notice(NoticeKind.ENDED, text, actions, locale=record.locale)
                await ctx.reach(record, ctx.adapter(record.key).notify(record.key, notice))
        finally:
            ctx.hooks.fire_ended(record.key, record.interview_id, reason)

    async def _complete_remote(self, record: InterviewRecord, reason: EndReason) -> bool:
        """Call the API's complete. False if it should be tried again later (the API is down or busy)."""
        api_reason = reason.for_api()
        if api_reason is None:  # the API no longer knows the interview: nothing to tell it
            return True
        try:
            await self._ctx.client_for(record.study).complete(
                record.interview_id, record.session_token, api_reason, caller=record.key.as_str()
            )
        except (NotFound, Unauthorized) as error:
            log.warning("complete: interview %s unknown to the API (%s)", record.interview_id, error.code)
        except (ApiUnavailable, ServerError, RateLimited) as error:
            log.warning("complete deferred interview=%s: %s", record.interview_id, error.code)
            return False
        except InterviewApiError as error:
            log.warning("complete refused interview=%s: %s", record.interview_id, error.code)
        return True

    async def finish_completing(self, record: InterviewRecord) -> None:
        """Retry the API's complete for an interview left in ``completing`` (crash or API down).

        The caller holds the conversation's lock, but may have read ``record`` before it had the lock: whoever held
        it (this instance's turn, or another instance) may have completed the interview meanwhile. It is read
        again, and a completion already done is not sent again.
        """
        fresh = await self._ctx.store.get_interview(record.interview_id)
        if fresh is None or fresh.status is not RecordStatus.COMPLETING:
            return
        reason = EndReason.parse(fresh.completion_reason) or EndReason.MANUAL
        if await self._complete_remote(fresh, reason):
            await self._ended_on_api(fresh)

    async def retry_completions(self) -> None:
        """Complete on the API what ended while it was down (the respondent was already told)."""
        for record in await self._ctx.store.resumable_interviews():
            if record.status is RecordStatus.COMPLETING:
                async with self._ctx.locks.hold(record.key.as_str()):
                    await self.finish_completing(record)

    async def on_deadline(self, record: InterviewRecord) -> None:
        """A deadline of ``record`` is due (caller holds the lock and re-read the record)."""
        ctx = self._ctx
        now = ctx.clock.now()
        if self._turns.busy(record.interview_id):
            return
        if record.expires_at is not None and record.expires_at <= now:
            reason = EndReason.UNREACHABLE if ctx.unreachable(record) else EndReason.TIMEOUT
            await self.complete(record, reason)
        elif record.nudge_at is not None and record.nudge_at <= now:
            record.nudge_at = None
            await ctx.store.update_interview(record)
            if not ctx.unreachable(record) and record.expires_at is not None:
                text = texts.nudge(catalogue(record.locale), record.expires_at - now)
                notice = Notice(NoticeKind.NUDGE, text, (Action.END,), locale=record.locale)
                await ctx.reach(record, ctx.adapter(record.key).notify(record.key, notice))
