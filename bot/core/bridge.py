"""The bridge: neutral events in, interviews driven, replies and questions out through adapters.

One conversation (key) maps to at most one active interview. Events of one conversation are handled one at a
time under a per-key lock; a turn's streaming runs in a background worker, so ``handle`` returns quickly
(adapters can answer a platform interaction within its deadline) and no conversation waits for another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from bot.api.answers import answer_text, validate_answer
from bot.api.client import InterviewClient
from bot.api.models import CompletionReason, Question
from bot.core import logfields, texts
from bot.core.answer_hints import TypedReply, read_typed_reply
from bot.core.choosing import StudyGate
from bot.core.clock import Clock, SystemClock
from bot.core.context import UNREACHABLE, CoreContext
from bot.core.coordination import Coordination
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
from bot.core.lifecycle import Lifecycle
from bot.core.observe import Connections, Observer
from bot.core.policy import AfterCompletion, BridgeConfig, typed_word
from bot.core.ports import Action, Adapter, Notice, NoticeKind
from bot.core.sharing import SharedDuties
from bot.core.store import InterviewRecord, RecordStatus, Store
from bot.core.studies import DEFAULT_STUDY, Study, StudyBook
from bot.core.turns import TurnRunner

log = logging.getLogger("bot.core")

#: How long handled platform event ids are remembered; how often the sweep forgets older ones and retries
#: completions the API could not take.
EVENT_MEMORY = 3 * 24 * 3600.0
HOUSEKEEPING_EVERY = 600.0


def default_studies(config: BridgeConfig) -> StudyBook:
    """Without a studies file: one study from the settings, open to anyone, as many times as they like."""
    study = Study(DEFAULT_STUDY, config.study or "Interview", project=config.study, once_per_respondent=False)
    return StudyBook((study,))


class Bridge:
    """The platform-neutral core. Adapters call :meth:`handle`; the bridge calls the adapters back."""

    def __init__(
        self,
        client: InterviewClient,
        store: Store,
        config: BridgeConfig,
        *,
        clock: Clock | None = None,
        studies: StudyBook | None = None,
        clients: dict[str, InterviewClient] | None = None,
        observer: Observer | None = None,
        coordination: Coordination | None = None,
    ) -> None:
        """``studies`` defaults to one study made from ``config``; ``clients`` maps study ids to their API client
        (studies on one key share one), and studies missing from it use ``client``. ``coordination`` is how
        this instance shares the database with others (default: it is the only one)."""
        self.store = store
        self.config = config
        book = studies or default_studies(config)
        #: the platform links this bot needs (adapters mark them up and down; readiness reads them)
        self.connections = Connections()
        self._ctx = CoreContext(
            client=client,
            store=store,
            config=config,
            clock=clock or SystemClock(),
            studies=book,
            observer=observer or Observer(),
        )
        self._ctx.share(coordination)
        self._ctx.clients.update(clients or {})
        self.gate = StudyGate(book, store, self._ctx.clock)
        self._turns = TurnRunner(self._ctx, self._on_api_end)
        self._lifecycle = Lifecycle(self._ctx, self._turns)
        self._sweeper: asyncio.Task[None] | None = None
        self.instances = SharedDuties(self._ctx, self._turns)
        self._background: set[asyncio.Task[None]] = set()

    # --- wiring ---

    def register(self, adapter: Adapter) -> None:
        """Serve conversations of ``adapter.platform`` through ``adapter``.

        Registering after :meth:`start` resumes that platform's unfinished work right away.
        """
        self._ctx.adapters[adapter.platform] = adapter
        if self._sweeper is not None:
            task = asyncio.create_task(self.resume(adapter.platform), name=f"resume:{adapter.platform}")
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    def unregister(self, adapter: Adapter) -> None:
        """Stop serving ``adapter.platform`` through ``adapter`` (an extension being unloaded)."""
        if self._ctx.adapters.get(adapter.platform) is adapter:
            del self._ctx.adapters[adapter.platform]

    async def start(self) -> None:
        """Resume what a previous run left unfinished, then start the inactivity sweep."""
        await self.resume()
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="inactivity-sweep")
        self.instances.start()

    async def pause(self) -> None:
        """The first step of a graceful stop: start no new turn, and cut the replies streaming now.

        Each cut reply ends visibly with the restart note; its turn stays stored in flight and messages keep
        being stored, so the next start shows the reply whole and sends nothing twice.
        """
        self._turns.stopping = True
        await self._turns.cancel_all()

    async def stop(self) -> None:
        """Stop the sweep and the workers. Turns in flight stay stored and resume at the next start."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.instances.stop()
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        await self._turns.cancel_all()

    async def resume(self, platform: str | None = None) -> None:
        """Pick up turns in flight, queued messages and interrupted completions from storage."""
        for record in await self.store.resumable_interviews():
            if record.key.platform not in self._ctx.adapters or platform not in (None, record.key.platform):
                continue
            async with self._ctx.locks.hold(record.key.as_str()):
                if record.status is RecordStatus.COMPLETING:
                    await self._lifecycle.finish_completing(record)
                    continue
                turn = await self.store.turn_in_flight(record.interview_id)
                if turn is not None:
                    self._turns.mark_resumed(turn)
                if turn is not None or await self.store.queued_messages(record.interview_id):
                    log.info("resuming interview=%s turn_in_flight=%s", record.interview_id, turn is not None)
                    self._turns.kick(record)

    # --- queries ---

    @property
    def observer(self) -> Observer:
        """Where adapters report what the core cannot see (platform 429s, write waits)."""
        return self._ctx.observer

    @property
    def client(self) -> InterviewClient:
        """The interview API client of the default study (transcripts, analysis)."""
        return self._ctx.client

    @property
    def studies(self) -> StudyBook:
        """The studies this bot runs."""
        return self._ctx.studies

    def client_for(self, study: str | None) -> InterviewClient:
        """The interview API client that runs ``study``."""
        return self._ctx.client_for(study)

    async def status(self, key: ConversationKey) -> InterviewRecord | None:
        """The conversation's active interview, else its latest one."""
        return await self.store.active_interview(key) or await self.store.latest_interview(key)

    async def wait_until_idle(self, key: ConversationKey) -> None:
        """Wait until the conversation's interview has no turn in flight or queued (terminal, tests)."""
        while self._background:  # adapters registered late are still resuming
            await asyncio.gather(*self._background, return_exceptions=True)
        record = await self.store.latest_interview(key)
        if record is not None:
            await self._turns.wait_idle(record.interview_id)

    # --- events ---

    async def handle(self, event: InboundEvent) -> Outcome:
        """Act on one inbound event. Returns quickly; replies stream in the background."""
        now = self._ctx.clock.now()
        if event.event_id and not await self.store.mark_event(event.key.platform, event.event_id, now):
            log.info("duplicate event dropped platform=%s event=%s", event.key.platform, event.event_id)
            self._ctx.observer.duplicate_dropped(platform=event.key.platform)
            return Outcome(OutcomeKind.DUPLICATE)
        owner = event.key
        if isinstance(event, Answer):  # the question's conversation decides, not the clicker's
            record = await self.store.get_interview(event.interview_id)
            owner = record.key if record is not None else event.key
        async with self._ctx.locks.hold(owner.as_str()):
            with logfields.about(owner.platform):
                return await self._dispatch(event)

    async def _dispatch(self, event: InboundEvent) -> Outcome:
        if isinstance(event, UserText):
            return await self._on_text(event)
        if isinstance(event, Answer):
            return await self._on_answer(event)
        if isinstance(event, Start):
            return await self._on_start(event.key, event.respondent, event.study)
        return await self._control(event)

    async def _active(self, key: ConversationKey) -> InterviewRecord | None:
        """The conversation's interview that still takes messages.

        One left *completing* (the API was down when it ended) is over for the respondent: try the API again
        and treat the conversation as free either way, so no message goes into an interview that has ended.
        """
        record = await self.store.active_interview(key)
        if record is not None:
            logfields.note(record.interview_id, record.study)
        if record is not None and record.status is RecordStatus.COMPLETING:
            await self._lifecycle.finish_completing(record)
            return None
        return record

    async def _on_start(self, key: ConversationKey, respondent: RespondentInfo, study: str | None) -> Outcome:
        record = await self._active(key)
        if record is not None:
            message = texts.already_running(catalogue(record.locale))
            await self._notify(record, Notice(NoticeKind.INFO, message, locale=record.locale))
            return Outcome(OutcomeKind.REJECTED, message, record.interview_id)
        return await self._start_chosen(key, respondent, study)

    async def _start_chosen(self, key: ConversationKey, respondent: RespondentInfo, requested: str | None) -> Outcome:
        """Start the study the person asked for or the only one open to them; else say why not or offer a choice."""
        locale = respondent.locale or self.config.locale
        choice = await self.gate.choose(key, requested, respondent.groups, locale)
        if choice.study is not None:
            return await self._lifecycle.start(key, respondent, choice.study)
        adapter = self._ctx.adapter(key)
        if choice.refusal is not None:
            await adapter.notify(key, Notice(NoticeKind.INFO, choice.refusal, locale=locale))
            return Outcome(OutcomeKind.REJECTED, choice.refusal)
        tr = catalogue(locale)
        text = tr.gettext("Several studies are open — which one would you like to take part in?")
        options = tuple((study.id, study.name) for study in choice.options)
        await adapter.notify(key, Notice(NoticeKind.CHOOSE_STUDY, text, studies=options, locale=locale))
        return Outcome(OutcomeKind.NO_INTERVIEW, text)

    async def _on_text(self, event: UserText) -> Outcome:
        record = await self._active(event.key)
        word = typed_word(event.text)
        if record is None:
            return await self._text_without_interview(event, word)
        tr = catalogue(record.locale)
        problem = self._check_text(event, tr)
        if problem is not None:
            await self._notify(record, Notice(NoticeKind.REJECTED, problem, locale=record.locale))
            return Outcome(OutcomeKind.REJECTED, problem, record.interview_id)
        if record.exit_requested:  # the reply to "do you want to end it?" is never an answer to the interview
            return await self._on_exit_reply(record, word)
        if word in self.config.exit_words or word == texts.exit_word(tr).lower():
            return await self._ask_exit(record)
        record.platform_state.pop(UNREACHABLE, None)
        pending = await self.store.pending_question(record.interview_id)
        typed = read_typed_reply(pending.question, event.text, record.locale) if pending else TypedReply()
        if typed.hint is not None:  # looks like an answer but reads only with a guess: ask again
            await self._notify(record, Notice(NoticeKind.REJECTED, typed.hint, locale=record.locale))
            return Outcome(OutcomeKind.REJECTED, typed.hint, record.interview_id)
        if pending is not None:  # a typed reply answers the question (read, or as a comment): buttons go stale
            await self.store.resolve_question(record.interview_id, pending.question_id)
        await self._enqueue(record, event.text, typed.answer)
        return Outcome(OutcomeKind.ACCEPTED, interview_id=record.interview_id)

    async def _on_exit_reply(self, record: InterviewRecord, word: str) -> Outcome:
        """A typed reply while the exit waits for its confirmation: end, carry on, or remind of the choices."""
        tr = catalogue(record.locale)
        if word in self.config.confirm_words or word == texts.confirm_word(tr).lower():
            await self._lifecycle.complete(record, CompletionReason.RESPONDENT_LEFT)
            return Outcome(OutcomeKind.ACCEPTED, interview_id=record.interview_id)
        if word in self.config.cancel_words or word == texts.cancel_word(tr).lower():
            return await self._on_cancel_exit(record, tr)
        reminder = texts.exit_reminder(tr)
        notice = Notice(
            NoticeKind.CONFIRM_EXIT, reminder, (Action.CONFIRM_EXIT, Action.CANCEL_EXIT), locale=record.locale
        )
        await self._notify(record, notice)
        return Outcome(OutcomeKind.REJECTED, reminder, record.interview_id)

    async def _text_without_interview(self, event: UserText, word: str) -> Outcome:
        latest = await self.store.latest_interview(event.key)
        policy = self.config.after_completion
        locale = event.respondent.locale or (latest.locale if latest is not None else None) or self.config.locale
        tr = catalogue(locale)
        starts = word in self.config.start_words or word == texts.start_word(tr).lower()
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
        if len(event.text) > self.config.max_message_length:
            return texts.too_long(tr, len(event.text), self.config.max_message_length)
        return None

    def _reader(self, event: Answer | Exit | Retry | CancelExit, record: InterviewRecord | None) -> Catalogue:
        """The catalogue of whoever acted: their own locale if the platform told it, else the interview's."""
        return catalogue(event.locale or (record.locale if record is not None else None) or self.config.locale)

    async def _on_answer(self, event: Answer) -> Outcome:
        record = await self.store.get_interview(event.interview_id)
        tr = self._reader(event, record)
        if record is None or record.status is not RecordStatus.ACTIVE:
            return Outcome(OutcomeKind.STALE, texts.interview_over(tr))
        if event.actor != record.key.user:
            return Outcome(OutcomeKind.NOT_YOURS, texts.not_yours(tr), record.interview_id)
        pending = await self.store.pending_question(record.interview_id)
        if pending is None or pending.question_id != event.question_id:
            return Outcome(OutcomeKind.STALE, texts.stale_question(tr), record.interview_id)
        question = Question.model_validate(pending.question)
        try:
            value = validate_answer(question, event.value)
        except ValueError as error:
            log.info("answer refused interview=%s: %s", record.interview_id, error)
            return Outcome(OutcomeKind.REJECTED, texts.invalid_answer(tr, question), record.interview_id)
        if not await self.store.resolve_question(record.interview_id, question.id):
            return Outcome(OutcomeKind.STALE, texts.stale_question(tr), record.interview_id)
        record.exit_requested = False
        payload = {"question_id": question.id, "value": value, "question": pending.question}
        await self._enqueue(record, answer_text(question, value), payload)
        return Outcome(OutcomeKind.ACCEPTED, texts.answer_label(tr, question, value), record.interview_id)

    async def _enqueue(self, record: InterviewRecord, text: str, answer: dict[str, Any] | None) -> None:
        now = self._ctx.clock.now()
        await self.store.enqueue_message(record.interview_id, text, now, answer)
        self._ctx.clear_deadlines(record)
        record.last_activity_at = now
        record.updated_at = now
        await self.store.update_interview(record)
        self._turns.kick(record)

    async def _ask_exit(self, record: InterviewRecord) -> Outcome:
        record.exit_requested = True
        await self.store.update_interview(record)
        text = texts.confirm_exit(catalogue(record.locale))
        notice = Notice(NoticeKind.CONFIRM_EXIT, text, (Action.CONFIRM_EXIT, Action.CANCEL_EXIT), locale=record.locale)
        await self._notify(record, notice)
        return Outcome(OutcomeKind.ACCEPTED, text, record.interview_id)

    async def _control(self, event: Exit | Retry | CancelExit) -> Outcome:
        """Buttons and commands that act on the conversation's active interview, by its respondent only."""
        record = await self._active(event.key)
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

    async def _on_exit(self, event: Exit, record: InterviewRecord) -> Outcome:
        if not event.confirmed:
            return await self._ask_exit(record)
        await self._lifecycle.complete(record, CompletionReason.RESPONDENT_LEFT)
        return Outcome(OutcomeKind.ACCEPTED, interview_id=record.interview_id)

    async def _on_cancel_exit(self, record: InterviewRecord, tr: Catalogue) -> Outcome:
        if record.exit_requested:
            record.exit_requested = False
            await self.store.update_interview(record)
            said = texts.exit_cancelled(catalogue(record.locale))
            await self._notify(record, Notice(NoticeKind.INFO, said, locale=record.locale))
        return Outcome(OutcomeKind.ACCEPTED, texts.exit_cancelled(tr), record.interview_id)

    async def _on_retry(self, record: InterviewRecord, tr: Catalogue) -> Outcome:
        if not await self.store.turn_in_flight(record.interview_id):
            return Outcome(OutcomeKind.STALE, texts.nothing_to_retry(tr))
        self._ctx.clear_deadlines(record)
        await self.store.update_interview(record)
        self._turns.request_retry(record)
        return Outcome(OutcomeKind.ACCEPTED, interview_id=record.interview_id)

    # --- background ---

    async def _on_api_end(self, record: InterviewRecord, why: str) -> None:
        """The API ended the interview (natural end) or no longer knows it."""
        if why == "natural":
            await self._lifecycle.complete(record, CompletionReason.NATURAL)
            return
        record.status = RecordStatus.COMPLETED
        record.completion_reason = "gone"
        record.completed_at = self._ctx.clock.now()
        self._ctx.clear_deadlines(record)
        await self.store.update_interview(record)
        self._ctx.observer.interview_ended(
            study=self._ctx.study_label(record), platform=record.key.platform, reason="gone"
        )

    async def check_deadlines(self) -> int:
        """Send due nudges and complete timed-out interviews; returns how many were acted on."""
        acted = 0
        for due in await self.store.due_interviews(self._ctx.clock.now()):
            async with self._ctx.locks.hold(due.key.as_str()):
                record = await self.store.get_interview(due.interview_id)
                if record is None or record.status is not RecordStatus.ACTIVE:
                    continue
                await self._lifecycle.on_deadline(record)
                acted += 1
        return acted

    async def _sweep_forever(self) -> None:
        last_prune = float("-inf")
        while True:
            await asyncio.sleep(self.config.sweep_interval)
            try:
                if not await self._ctx.coordination.lead():  # another instance sweeps
                    continue
                await self.check_deadlines()
                await self.instances.take_over_lapsed_turns()
                now = self._ctx.clock.now()
                if now - last_prune >= HOUSEKEEPING_EVERY:
                    last_prune = now
                    await self.store.prune_events(now - EVENT_MEMORY)  # redeliveries come within minutes
                    await self._retry_completions()
            except Exception:  # the sweep must survive a bad record or a storage hiccup
                log.exception("inactivity sweep failed")

    async def _retry_completions(self) -> None:
        """Complete on the API what ended while it was down (the respondent was already told)."""
        for record in await self.store.resumable_interviews():
            if record.status is RecordStatus.COMPLETING:
                async with self._ctx.locks.hold(record.key.as_str()):
                    await self._lifecycle.finish_completing(record)

    async def _notify(self, record: InterviewRecord, notice: Notice) -> None:
        await self._ctx.reach(record, self._ctx.adapter(record.key).notify(record.key, notice))
