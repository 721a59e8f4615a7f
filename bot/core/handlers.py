"""What each inbound event does to a conversation's interview. The caller holds the conversation's lock."""

from __future__ import annotations

import logging
from typing import Any

from bot.api.answers import answer_text, validate_answer
from bot.api.models import Question
from bot.core import logfields, texts
from bot.core.answer_hints import TypedReply, read_typed_reply
from bot.core.choosing import StudyGate
from bot.core.context import UNREACHABLE, CoreContext
from bot.core.endings import EndReason
from bot.core.events import (
    Answer,
    CancelExit,
    Exit,
    InboundEvent,
    Outcome,
    OutcomeKind,
    RespondentInfo,
    Retry,
    Start,
    UserText,
)
from bot.core.i18n import Catalogue, catalogue
from bot.core.keys import ConversationKey
from bot.core.lifecycle import OPENING_UNSHOWN, Lifecycle
from bot.core.policy import AfterCompletion, typed_word
from bot.core.ports import Action, Notice, NoticeKind
from bot.core.privacy import PrivacyDesk
from bot.core.store import InterviewRecord, RecordStatus, StoredQuestion
from bot.core.turns import TurnRunner

log = logging.getLogger("bot.core")


class EventHandlers:
    """Start, text, answers, exit, retry: each turned into stored state, turns and notices."""

    def __init__(
        self, ctx: CoreContext, turns: TurnRunner, lifecycle: Lifecycle, gate: StudyGate, privacy: PrivacyDesk
    ) -> None:
        self._ctx = ctx
        self._turns = turns
        self._lifecycle = lifecycle
        self._privacy = privacy
        self._consent = privacy.consent
        self._gate = gate

    async def dispatch_once(self, event: InboundEvent) -> Outcome:
        """:meth:`dispatch` an event not seen before (the caller holds its conversation's lock, every instance's).

        The event is remembered as seen once acted on, a message's in the transaction that stores it: a redelivery
        after a crash in between is acted on, not lost, and one after that is dropped.
        """
        store, platform = self._ctx.store, event.key.platform
        if event.event_id and await store.event_seen(platform, event.event_id):
            log.info("duplicate event dropped platform=%s event=%s", platform, event.event_id)
            self._ctx.observer.duplicate_dropped(platform=platform)
            return Outcome(OutcomeKind.DUPLICATE)
        outcome = await self.dispatch(event)
        if event.event_id:
            await store.mark_event(platform, event.event_id, self._ctx.clock.now())
        return outcome

    async def dispatch(self, event: InboundEvent) -> Outcome:
        """Route one event (the caller holds its conversation's lock): privacy first, then the interview."""
        answered = await self._privacy.intercept(event, self.active)  # consent, forget-me, my-data
        if answered is not None:
            return answered
        if isinstance(event, UserText):
            return await self.on_text(event)
        if isinstance(event, Answer):
            return await self.on_answer(event)
        if isinstance(event, Start):
            return await self.on_start(event.key, event.respondent, event.study, event.consented, event.handed_over)
        assert isinstance(event, Exit | Retry | CancelExit)  # privacy events were answered above
        return await self.control(event)

    async def active(self, key: ConversationKey) -> InterviewRecord | None:
        """The conversation's interview that still takes messages.

        One left *completing* (the API was down when it ended) is over for the respondent: try the API again
        and treat the conversation as free either way, so no message goes into an interview that has ended.
        """
        record = await self._ctx.store.active_interview(key)
        if record is not None:
            logfields.note(record.interview_id, record.study)
        if record is not None and record.status is RecordStatus.COMPLETING:
            await self._lifecycle.finish_completing(record)
            return None
        return record

    async def on_start(
        self,
        key: ConversationKey,
        respondent: RespondentInfo,
        study: str | None,
        consented: bool = False,
        handed_over: bool = False,
    ) -> Outcome:
        record = await self.active(key)
        if record is not None:
            message = texts.already_running(catalogue(record.locale))
            await self.notify(record, Notice(NoticeKind.INFO, message, locale=record.locale))
            return Outcome(OutcomeKind.REJECTED, message, record.interview_id)
        return await self._start_chosen(key, respondent, study, consented, handed_over)

    async def _start_chosen(
        self,
        key: ConversationKey,
        respondent: RespondentInfo,
        requested: str | None,
        consented: bool = False,
        handed_over: bool = False,
    ) -> Outcome:
        """Start the study the person asked for or the only one open to them; else say why not or offer a choice."""
        locale = respondent.locale or self._ctx.config.locale
        choice = await self._gate.choose(key, requested, respondent.groups, locale)
        if choice.study is not None:
            if consented:  # the person agreed to this study's consent text before
                return await self._lifecycle.start(key, respondent, choice.study)
            # the start call comes on "I agree"
            return await self._consent.ask(key, respondent, choice.study, offer_later=not handed_over)
        adapter = self._ctx.adapter(key)
        if choice.refusal is not None:
            await adapter.notify(key, Notice(NoticeKind.INFO, choice.refusal, locale=locale))
            return Outcome(OutcomeKind.REJECTED, choice.refusal)
        tr = catalogue(locale)
        text = tr.gettext("Several studies are open — which one would you like to take part in?")
        options = tuple((study.id, study.name) for study in choice.options)
        await adapter.notify(key, Notice(NoticeKind.CHOOSE_STUDY, text, studies=options, locale=locale))
        return Outcome(OutcomeKind.NO_INTERVIEW, text)

    async def on_text(self, event: UserText) -> Outcome:
        record = await self.active(event.key)
        word = typed_word(event.text)
        if record is None:
            return await self._text_without_interview(event, word)
        tr = catalogue(record.locale)
        problem = self._check_text(event, tr)
        if problem is not None:
            await self.notify(record, Notice(NoticeKind.REJECTED, problem, locale=record.locale))
            return Outcome(OutcomeKind.REJECTED, problem, record.interview_id)
        if record.platform_state.get(OPENING_UNSHOWN):  # they never saw the first question: this answers nothing
            await self._lifecycle.show_opening(record)
            return Outcome(OutcomeKind.ACCEPTED, interview_id=record.interview_id)
        if record.exit_requested:  # the reply to "do you want to end it?" is never an answer to the interview
            return await self._on_exit_reply(record, word)
        if word in self._ctx.config.exit_words or word == texts.exit_word(tr).lower():
            return await self._ask_exit(record)
        record.platform_state.pop(UNREACHABLE, None)
        pending = await self._ctx.store.pending_question(record.interview_id)
        typed = read_typed_reply(pending.question, event.text, record.locale) if pending else TypedReply()
        if typed.hint is not None:  # looks like an answer but reads only with a guess: ask again
            await self.notify(record, Notice(NoticeKind.REJECTED, typed.hint, locale=record.locale))
            return Outcome(OutcomeKind.REJECTED, typed.hint, record.interview_id)
        if pending is not None:  # a typed reply answers the question (read, or as a comment): buttons go stale
            await self._ctx.store.resolve_question(record.interview_id, pending.question_id)
        await self._enqueue(record, event.text, typed.answer, event)
        return Outcome(OutcomeKind.ACCEPTED, interview_id=record.interview_id)

    async def _on_exit_reply(self, record: InterviewRecord, word: str) -> Outcome:
        """A typed reply while the exit waits for its confirmation: end, carry on, or remind of the choices."""
        tr = catalogue(record.locale)
        if word in self._ctx.config.confirm_words or word == texts.confirm_word(tr).lower():
            await self._lifecycle.complete(record, EndReason.RESPONDENT_LEFT)
            return Outcome(OutcomeKind.ACCEPTED, interview_id=record.interview_id)
        if word in self._ctx.config.cancel_words or word == texts.cancel_word(tr).lower():
            return await self._on_cancel_exit(record, tr)
        reminder = texts.exit_reminder(tr)
        notice = Notice(
            NoticeKind.CONFIRM_EXIT, reminder, (Action.CONFIRM_EXIT, Action.CANCEL_EXIT), locale=record.locale
        )
        await self.notify(record, notice)
        return Outcome(OutcomeKind.REJECTED, reminder, record.interview_id)

    async def _text_without_interview(self, event: UserText, word: str) -> Outcome:
        latest = await self._ctx.store.latest_interview(event.key)
        policy = self._ctx.config.after_completion
        locale = event.respondent.locale or (latest.locale if latest is not None else None) or self._ctx.config.locale
        tr = catalogue(locale)
        starts = word in self._ctx.config.start_words or word == texts.start_word(tr).lower()
        if latest is None or policy is AfterCompletion.AUTO or starts:
            if latest is not None and policy is AfterCompletion.NEVER:
                closed = Notice(NoticeKind.INFO, texts.closed(tr), locale=locale)
                await self._ctx.adapter(event.key).notify(event.key, closed)
                return Outcome(OutcomeKind.REJECTED, closed.text)
            return await self._start_chosen(event.key, event.respondent, None)
        if policy is AfterCompletion.NEVER:
            notice = Notice(NoticeKind.INFO, texts.closed(tr), locale=locale)
        else:
            notice = Notice(NoticeKind.OFFER_NEW, texts.offer_new(tr), (Action.NEW_INTERVIEW,), locale=locale)
        await self._ctx.adapter(event.key).notify(event.key, notice)
        return Outcome(OutcomeKind.NO_INTERVIEW, notice.text)

    def _check_text(self, event: UserText, tr: Catalogue) -> str | None:
        if not event.text.strip():
            return texts.attachment_only(tr) if event.attachments else texts.empty(tr)
        if len(event.text) > self._ctx.config.max_message_length:
            return texts.too_long(tr, len(event.text), self._ctx.config.max_message_length)
        return None

    def _reader(self, event: Answer | Exit | Retry | CancelExit, record: InterviewRecord | None) -> Catalogue:
        """The catalogue of whoever acted: their own locale if the platform told it, else the interview's."""
        return catalogue(event.locale or (record.locale if record is not None else None) or self._ctx.config.locale)

    async def check_question(
        self, actor: str, interview_id: str, question_id: str, locale: str | None = None
    ) -> tuple[Outcome, InterviewRecord | None, StoredQuestion | None]:
        """May ``actor`` answer this question now? The verdict (in ``locale``, else the interview's language), and
        the interview and question when they may."""
        store = self._ctx.store
        record = await store.get_interview(interview_id)
        tr = catalogue(locale or (record.locale if record is not None else None) or self._ctx.config.locale)
        if record is None or record.status is not RecordStatus.ACTIVE:
            return Outcome(OutcomeKind.STALE, texts.interview_over(tr)), None, None
        if actor != record.key.user:
            return Outcome(OutcomeKind.NOT_YOURS, texts.not_yours(tr), interview_id), None, None
        pending = await store.pending_question(interview_id)
        if pending is None or pending.question_id != question_id:
            return Outcome(OutcomeKind.STALE, texts.stale_question(tr), interview_id), None, None
        return Outcome(OutcomeKind.ACCEPTED, interview_id=interview_id), record, pending

    async def on_answer(self, event: Answer) -> Outcome:
        verdict, record, pending = await self.check_question(
            event.actor, event.interview_id, event.question_id, event.locale
        )
        if record is None or pending is None:
            return verdict
        tr = self._reader(event, record)
        question = Question.model_validate(pending.question)
        try:
            value = validate_answer(question, event.value)
        except ValueError as error:
            log.info("answer refused interview=%s: %s", record.interview_id, error)
            return Outcome(OutcomeKind.REJECTED, texts.invalid_answer(tr, question), record.interview_id)
        if not await self._ctx.store.resolve_question(record.interview_id, question.id):
            return Outcome(OutcomeKind.STALE, texts.stale_question(tr), record.interview_id)
        record.exit_requested = False
        payload = {"question_id": question.id, "value": value, "question": pending.question}
        await self._enqueue(record, answer_text(question, value), payload, event)
        return Outcome(OutcomeKind.ACCEPTED, texts.answer_label(tr, question, value), record.interview_id)

    async def _enqueue(
        self, record: InterviewRecord, text: str, answer: dict[str, Any] | None, event: UserText | Answer
    ) -> None:
        now = self._ctx.clock.now()
        seen = (event.key.platform, event.event_id) if event.event_id else None
        await self._ctx.store.enqueue_message(record.interview_id, text, now, answer, event=seen)
        self._ctx.clear_deadlines(record)
        record.last_activity_at = now
        record.updated_at = now
        await self._ctx.store.update_interview(record)
        self._turns.kick(record)

    async def _ask_exit(self, record: InterviewRecord) -> Outcome:
        record.exit_requested = True
        await self._ctx.store.update_interview(record)
        text = texts.confirm_exit(catalogue(record.locale))
        notice = Notice(NoticeKind.CONFIRM_EXIT, text, (Action.CONFIRM_EXIT, Action.CANCEL_EXIT), locale=record.locale)
        await self.notify(record, notice)
        return Outcome(OutcomeKind.ACCEPTED, text, record.interview_id)

    async def control(self, event: Exit | Retry | CancelExit) -> Outcome:
        """Buttons and commands that act on the conversation's active interview, by its respondent only."""
        record = await self.active(event.key)
        tr = self._reader(event, record)
        if record is None:
            return Outcome(OutcomeKind.NO_INTERVIEW, texts.no_interview(tr))
        if event.actor is not None and event.actor != record.key.user:
            return Outcome(OutcomeKind.NOT_YOURS, texts.not_yours(tr), record.interview_id)
        if isinstance(event, Exit):
            return await self._on_exit(event, record)
        if isinstance(event, Retry):
            return await self._on_retry(record, tr)
        return await self._on_cancel_exit(record, tr)

    async def end(self, key: ConversationKey, reason: EndReason) -> Outcome:
        """End the conversation's active interview on the bot's (or the research team's) behalf."""
        record = await self.active(key)
        if record is None:
            return Outcome(OutcomeKind.NO_INTERVIEW, texts.no_interview(catalogue(self._ctx.config.locale)))
        await self._lifecycle.complete(record, reason)
        return Outcome(OutcomeKind.ACCEPTED, interview_id=record.interview_id)

    async def _on_exit(self, event: Exit, record: InterviewRecord) -> Outcome:
        if not event.confirmed:
            return await self._ask_exit(record)
        await self._lifecycle.complete(record, EndReason.RESPONDENT_LEFT)
        return Outcome(OutcomeKind.ACCEPTED, interview_id=record.interview_id)

    async def _on_cancel_exit(self, record: InterviewRecord, tr: Catalogue) -> Outcome:
        if record.exit_requested:
            record.exit_requested = False
            await self._ctx.store.update_interview(record)
            said = texts.exit_cancelled(catalogue(record.locale))
            await self.notify(record, Notice(NoticeKind.INFO, said, locale=record.locale))
        return Outcome(OutcomeKind.ACCEPTED, texts.exit_cancelled(tr), record.interview_id)

    async def _on_retry(self, record: InterviewRecord, tr: Catalogue) -> Outcome:
        if not await self._ctx.store.turn_in_flight(record.interview_id):
            return Outcome(OutcomeKind.STALE, texts.nothing_to_retry(tr))
        self._ctx.clear_deadlines(record)
        await self._ctx.store.update_interview(record)
        self._turns.request_retry(record)
        return Outcome(OutcomeKind.ACCEPTED, interview_id=record.interview_id)

    async def notify(self, record: InterviewRecord, notice: Notice) -> None:
        """Send a notice into the interview's conversation (an unreachable respondent is recorded)."""
        await self._ctx.reach(record, self._ctx.adapter(record.key).notify(record.key, notice))
