"""The bridge: neutral events in, interviews driven, replies and questions out through adapters.

One conversation (key) maps to at most one active interview. Events of one conversation are handled one at a
time under a per-key lock; a turn's streaming runs in a background worker, so ``handle`` returns quickly
(adapters can answer a platform interaction within its deadline) and no conversation waits for another.

Adapters and embedding bots use the bridge only: events in (:meth:`Bridge.handle`), read-only views out
(:meth:`Bridge.status`, :meth:`Bridge.pending`, :meth:`Bridge.may_answer`), lifecycle hooks
(:meth:`Bridge.on_started`, :meth:`Bridge.on_ended`) and a small state port (:meth:`Bridge.adapter_state`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from bot.api.client import InterviewClient
from bot.core import logfields
from bot.core.adapter_state import AdapterState, ScopedState
from bot.core.admin import StudyDesk
from bot.core.choosing import StudyGate
from bot.core.clock import Clock, SystemClock
from bot.core.context import CoreContext
from bot.core.coordination import Coordination
from bot.core.endings import EndReason
from bot.core.events import Answer, InboundEvent, Outcome, OutcomeKind, Start, UserText
from bot.core.handlers import EventHandlers
from bot.core.handoff import HandoffHandle, Handoffs
from bot.core.handoff_types import HandoffRequest
from bot.core.hooks import EndedHook, StartedHook
from bot.core.i18n import catalogue
from bot.core.keys import ConversationKey
from bot.core.lifecycle import Lifecycle
from bot.core.observe import Connections, Observer
from bot.core.policy import BridgeConfig
from bot.core.ports import Adapter, PendingQuestion, RespondentUnreachable
from bot.core.privacy import PrivacyDesk
from bot.core.results import AnalysisWatch
from bot.core.sharing import SharedDuties
from bot.core.store import InterviewRecord, RecordStatus, Store
from bot.core.studies import DEFAULT_STUDY, Study, StudyBook
from bot.core.turns import TurnRunner
from bot.core.views import InterviewStatus, pending_of, status_of

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
        self._store = store
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
        self.desk = StudyDesk(self._ctx, self.gate)
        self._turns = TurnRunner(self._ctx, self._on_api_end)
        self._lifecycle = Lifecycle(self._ctx, self._turns)
        self.privacy = PrivacyDesk(self._ctx, self._lifecycle)  # consent first; forget-me, my-data, retention
        self._events = EventHandlers(self._ctx, self._turns, self._lifecycle, self.gate, self.privacy)
        self.results = AnalysisWatch(self._ctx)
        self._lifecycle.on_completed = self.results.watch
        self._sweeper: asyncio.Task[None] | None = None
        self._pruned_at = float("-inf")  # the sweep's housekeeping: last done at
        self.instances = SharedDuties(self._ctx, self._turns)
        self.handoffs = Handoffs(self._ctx, self.gate, self.handle, self.end)  # other bots hand users over
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

    def adapter_state(self, scope: str) -> AdapterState:
        """Small JSON values an adapter keeps across restarts (thread ts, reply anchors), under its own scope."""
        return ScopedState(self._store, scope)

    def on_started(self, hook: StartedHook) -> StartedHook:
        """Call ``await hook(key, interview_id)`` whenever an interview starts. Usable as a decorator."""
        self._ctx.hooks.started.append(hook)
        return hook

    def on_ended(self, hook: EndedHook) -> EndedHook:
        """Call ``await hook(key, interview_id, reason)`` once whenever an interview ends, on every path
        (the interviewer, the respondent, a timeout, :meth:`end`, ``gone``, ``unreachable``). A decorator too."""
        self._ctx.hooks.ended.append(hook)
        return hook

    def remove_hook(self, hook: StartedHook | EndedHook) -> None:
        """Unsubscribe a hook given to :meth:`on_started` or :meth:`on_ended`."""
        self._ctx.hooks.remove(hook)

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
        await self._ctx.hooks.drain()

    async def resume(self, platform: str | None = None) -> None:
        """Pick up turns in flight, queued messages and interrupted completions from storage."""
        for record in await self._store.resumable_interviews():
            if record.key.platform not in self._ctx.adapters or platform not in (None, record.key.platform):
                continue
            async with self._ctx.locks.hold(record.key.as_str()):
                if record.status is RecordStatus.COMPLETING:
                    await self._lifecycle.finish_completing(record)
                    continue
                turn = await self._store.turn_in_flight(record.interview_id)
                if turn is not None:
                    self._turns.mark_resumed(turn)
                if turn is not None or await self._store.queued_messages(record.interview_id):
                    log.info("resuming interview=%s turn_in_flight=%s", record.interview_id, turn is not None)
                    self._turns.kick(record)

    # --- queries (read-only views: no session token, nothing to write back) ---

    @property
    def store(self) -> Store:
        """The store, for the composition root only (adapters never touch it: ``tests/test_architecture.py``)."""
        return self._store

    @property
    def clock(self) -> Clock:
        """The core's clock (injected in tests): deadlines, reminders and panels' edit spacing read it."""
        return self._ctx.clock

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

    async def status(self, key: ConversationKey) -> InterviewStatus | None:
        """The conversation's active interview, else its latest one."""
        record = await self._store.active_interview(key) or await self._store.latest_interview(key)
        return status_of(record) if record is not None else None

    async def current(self, key: ConversationKey) -> InterviewStatus | None:
        """The conversation's interview that is not over yet, if any."""
        record = await self._store.active_interview(key)
        return status_of(record) if record is not None else None

    async def locale_of(self, key: ConversationKey) -> str | None:
        """The locale of the conversation's interview in progress (None: none, or the default language)."""
        current = await self.current(key)
        return current.locale if current is not None else None

    async def interviews_of(self, platform: str, user: str, limit: int = 20) -> list[InterviewStatus]:
        """A person's interviews on a platform, newest first (a home tab, a status command)."""
        return [status_of(r) for r in await self._store.interviews_of_user(platform, user, limit)]

    async def active_conversations(self, platform: str) -> list[ConversationKey]:
        """The conversations of ``platform`` with an interview in progress (e.g. to catch up on missed messages)."""
        records = await self._store.unfinished_interviews()
        return [r.key for r in records if r.key.platform == platform and r.status is RecordStatus.ACTIVE]

    async def last_said(self, key: ConversationKey) -> str | None:
        """The interviewer's latest words in the conversation's interview in progress (to show where it stands)."""
        record = await self._store.active_interview(key)
        if record is None:
            return None
        said = [
            line.content for line in await self._store.transcript(record.interview_id) if line.role == "interviewer"
        ]
        return said[-1] if said else None

    async def pending(self, key: ConversationKey) -> PendingQuestion | None:
        """The structured question waiting for an answer in the conversation's interview, if any."""
        record = await self._store.active_interview(key)
        if record is None or record.status is not RecordStatus.ACTIVE:
            return None
        return pending_of(await self._store.pending_question(record.interview_id), record)

    async def pending_in(self, interview_id: str) -> PendingQuestion | None:
        """The question waiting for an answer in this interview (by id, as a click carries it), if any."""
        record = await self._store.get_interview(interview_id)
        if record is None or record.status is not RecordStatus.ACTIVE:
            return None
        return pending_of(await self._store.pending_question(interview_id), record)

    async def may_answer(self, actor: str, interview_id: str, question_id: str, locale: str | None = None) -> Outcome:
        """May ``actor`` act on this question now (open a widget step, a modal)? ``ok``, else why not.

        The same checks :meth:`handle` makes for an :class:`Answer`: the interview is over (``STALE``), it is
        someone else's (``NOT_YOURS``), the question was answered or replaced (``STALE``).
        """
        verdict, _, _ = await self._events.check_question(actor, interview_id, question_id, locale)
        return verdict

    async def wait_until_idle(self, key: ConversationKey) -> None:
        """Wait until the conversation's interview has no turn in flight or queued, and hooks have run."""
        while self._background:  # adapters registered late are still resuming
            await asyncio.gather(*self._background, return_exceptions=True)
        record = await self._store.latest_interview(key)
        if record is not None:
            await self._turns.wait_idle(record.interview_id)
        await self._ctx.hooks.drain()

    # --- events ---

    async def handle(self, event: InboundEvent) -> Outcome:
        """Act on one inbound event. Returns quickly; replies stream in the background.

        Never raises a platform's error: a respondent the platform cannot reach gives ``UNREACHABLE``, any
        other failure (an adapter's, the store's) is logged and gives ``ERROR``, with a sentence to show.
        """
        try:
            return await self._handle(event)
        except RespondentUnreachable as error:
            log.info("event not acted on: respondent unreachable platform=%s: %s", event.key.platform, error)
            tr = catalogue(self._locale_of(event))
            return Outcome(
                OutcomeKind.UNREACHABLE,
                tr.gettext("I can't send you messages here — please open your direct messages to me and try again."),
            )
        except Exception:
            log.exception("event failed platform=%s kind=%s", event.key.platform, type(event).__name__)
            return Outcome(OutcomeKind.ERROR, _unavailable(self._locale_of(event)))

    def _locale_of(self, event: InboundEvent) -> str | None:
        if isinstance(event, (Start, UserText)):
            return event.respondent.locale or self.config.locale
        return event.locale or self.config.locale

    async def _handle(self, event: InboundEvent) -> Outcome:
        owner = event.key
        if isinstance(event, Answer):  # the question's conversation decides, not the clicker's
            record = await self._store.get_interview(event.interview_id)
            owner = record.key if record is not None else event.key
        async with self._ctx.locks.hold(owner.as_str()):
            with logfields.about(owner.platform):
                return await self._events.dispatch_once(event)

    async def end(self, key: ConversationKey, reason: EndReason = EndReason.MANUAL) -> Outcome:
        """End the conversation's interview on the bot's behalf (e.g. a handover bot taking the user back)."""
        try:
            async with self._ctx.locks.hold(key.as_str()):
                return await self._events.end(key, reason)
        except Exception:
            log.exception("ending an interview failed platform=%s", key.platform)
            return Outcome(OutcomeKind.ERROR, _unavailable(self.config.locale))

    async def hand_over(  # the HTTP API's body, field for field
        self, platform: str, workspace: str, user: str, study: str, context: dict[str, Any] | None = None,
        callback_url: str | None = None, idempotency_key: str | None = None,
    ) -> HandoffHandle:  # fmt: skip
        """Consent asked in the DM; ``study`` starts on I agree with ``context`` as metadata (or ``HandoffError``)."""
        request = HandoffRequest(platform, workspace, user, study, context or {}, callback_url, idempotency_key)
        return await self.handoffs.hand_over(request)

    # --- background ---

    async def _on_api_end(self, record: InterviewRecord, why: str) -> None:
        """The API ended the interview (natural end) or no longer knows it (gone). The lock is held."""
        reason = EndReason.NATURAL if why == "natural" else EndReason.GONE
        await self._lifecycle.complete(record, reason, notify=reason is EndReason.NATURAL)

    async def check_deadlines(self) -> int:
        """Send due nudges and complete timed-out interviews; returns how many were acted on."""
        acted = 0
        for due in await self._store.due_interviews(self._ctx.clock.now()):
            async with self._ctx.locks.hold(due.key.as_str()):
                record = await self._store.get_interview(due.interview_id)
                if record is None or record.status is not RecordStatus.ACTIVE:
                    continue
                await self._lifecycle.on_deadline(record)
                acted += 1
        return acted

    async def _sweep_forever(self) -> None:
        """Leading: a dead instance's turns each sweep; the chores, which may wait for busy conversations, apart."""
        chores: asyncio.Task[None] | None = None
        try:
            while True:
                await asyncio.sleep(self.config.sweep_interval)
                try:
                    if await self._ctx.coordination.lead():  # else another instance sweeps
                        await self.instances.take_over_lapsed_turns()
                        if chores is None or chores.done():
                            chores = asyncio.create_task(self._chores(), name="sweep-chores")
                except Exception:  # the sweep must survive a bad record or a storage hiccup
                    log.exception("inactivity sweep failed")
        finally:
            if chores is not None:
                chores.cancel()
                await asyncio.gather(chores, return_exceptions=True)

    async def _chores(self) -> None:
        try:
            await self.check_deadlines()
            await self.results.poll_due()
            await self.handoffs.reconcile()  # consent answered or expired, interviews ended: callbacks queued
            now = self._ctx.clock.now()
            if now - self._pruned_at >= HOUSEKEEPING_EVERY:
                self._pruned_at = now
                await self._store.prune_events(now - EVENT_MEMORY)  # redeliveries come within minutes
                await self.privacy.housekeeping()  # RETENTION_DAYS; cards of erased people left to delete
                await self._lifecycle.retry_completions()  # what ended while the API was down
        except Exception:
            log.exception("inactivity sweep failed")


def _unavailable(locale: str | None) -> str:
    return catalogue(locale).gettext("Something went wrong on my side. Please try again in a moment.")
