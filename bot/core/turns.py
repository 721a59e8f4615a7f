"""Turns: one at a time per interview, never blocking other interviews.

A respondent message is stored (queued) before anything else happens. A worker per interview turns the queue
into the turn in flight (stored), sends it, relays the streamed reply, and only then marks the turn done.
After a crash or a failed attempt the turn in flight is first looked up with ``GET /interviews/:id``: a
message the API already accepted is never sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.api.errors import AlreadyCompleted, Conflict, InterviewApiError, NotFound
from bot.api.models import AnswerValue, Question, RecoveredTurn, TextReplace
from bot.core import logfields, texts
from bot.core.context import CoreContext
from bot.core.i18n import catalogue
from bot.core.ports import Action, Notice, NoticeKind, PendingQuestion
from bot.core.relay import ReplyRelay, StreamErrorReported
from bot.core.store import InterviewRecord, RecordStatus, StoredQuestion, Turn

log = logging.getLogger("bot.core.turns")

#: Called (with the conversation lock held) when the API says an interview is over or gone.
EndCallback = Callable[[InterviewRecord, str], Awaitable[None]]


class TurnRunner:
    """Runs the turns of every interview; one worker task per interview with work to do."""

    def __init__(self, ctx: CoreContext, on_end: EndCallback) -> None:
        self._ctx = ctx
        self._on_end = on_end
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._attempted: set[int] = set()  # turn ids sent (or tried) by this process
        self._stop_notes: dict[str, str] = {}  # why a worker is being stopped, shown under its cut reply
        self._retry_requested: set[str] = set()  # interviews whose running worker should retry if it fails
        #: set by a graceful stop: no new turn starts; queued messages wait in storage for the next start
        self.stopping = False

    def kick(self, record: InterviewRecord) -> None:
        """Make sure a worker runs for this interview (no-op if one does, or while stopping)."""
        if self.stopping:  # the message is stored: the next start takes it
            return
        worker = self._workers.get(record.interview_id)
        if worker is None or worker.done():
            task = asyncio.create_task(self._work(record.interview_id), name=f"turns:{record.interview_id}")
            self._workers[record.interview_id] = task
            task.add_done_callback(lambda _: self._forget(record.interview_id, task))

    def _forget(self, interview_id: str, task: asyncio.Task[None]) -> None:
        if self._workers.get(interview_id) is task:
            del self._workers[interview_id]

    def request_retry(self, record: InterviewRecord) -> None:
        """Retry the turn in flight: now if no worker runs, else as soon as the running attempt has failed."""
        if self.busy(record.interview_id):
            self._retry_requested.add(record.interview_id)
        else:
            self.kick(record)

    def running(self) -> list[str]:
        """The interviews whose worker is running now."""
        return [interview_id for interview_id, worker in self._workers.items() if not worker.done()]

    def busy(self, interview_id: str) -> bool:
        """True while a worker is running for the interview."""
        worker = self._workers.get(interview_id)
        return worker is not None and not worker.done()

    async def wait_idle(self, interview_id: str) -> None:
        """Wait until the interview's worker (if any) has nothing left to do."""
        while (worker := self._workers.get(interview_id)) is not None and not worker.done():
            try:
                await asyncio.shield(worker)
            except asyncio.CancelledError:
                waiter = asyncio.current_task()
                if waiter is not None and waiter.cancelling():  # the waiter is being stopped (Ctrl-C), not the worker
                    raise

    async def cancel(self, interview_id: str, note: str | None = None) -> None:
        """Stop the interview's worker; a reply it was showing ends with ``note`` (by default: restarting)."""
        worker = self._workers.get(interview_id)
        if worker is not None and worker is not asyncio.current_task() and not worker.done():
            if note is not None:
                self._stop_notes[interview_id] = note
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def cancel_all(self) -> None:
        """Stop every worker (shutdown). Turns in flight stay stored and resume at the next start."""
        for interview_id in list(self._workers):
            await self.cancel(interview_id)

    async def _work(self, interview_id: str) -> None:
        store = self._ctx.store
        while True:
            record = await store.get_interview(interview_id)
            if record is None or record.status is not RecordStatus.ACTIVE:
                return
            lease = self._ctx.turn_lease()
            turn = await store.begin_turn(interview_id, self._ctx.clock.now(), lease=lease)
            if turn is None:  # nothing queued, or another instance runs the turn in flight
                return
            with logfields.about(record.key.platform, interview_id, record.study):
                try:
                    go_on = await self._run(record, turn)
                except Exception as error:  # showing the answered reply failed (a platform error): offer Retry,
                    # which looks the turn up first; never leave the turn stranded with a dead worker
                    log.exception("delivering the reply failed interview=%s turn=%s", interview_id, turn.id)
                    await self._fail(record, None, error)
                    go_on = False
            if not go_on:
                if interview_id in self._retry_requested:  # Retry was clicked while this attempt wound down
                    self._retry_requested.discard(interview_id)
                    continue
                if lease is not None:  # it waits for Retry, which any instance may receive
                    await store.release_turn(turn.id, lease.owner)
                return
            self._retry_requested.discard(interview_id)

    async def _run(self, record: InterviewRecord, turn: Turn) -> bool:
        """One turn, start to end, reported to the observer. False when the worker should stop."""
        report = _TurnReport(started=asyncio.get_running_loop().time())
        try:
            return await self._attempt(record, turn, report)
        finally:
            self._report(record, report)

    def _report(self, record: InterviewRecord, report: _TurnReport) -> None:
        observer, platform = self._ctx.observer, record.key.platform
        seconds = asyncio.get_running_loop().time() - report.started
        observer.turn_finished(
            study=self._ctx.study_label(record), platform=platform, outcome=report.outcome, seconds=seconds
        )
        relay = report.relay
        if relay is not None and relay.first_visible_at is not None:
            observer.first_update(platform=platform, seconds=relay.first_visible_at - report.started)

    async def _attempt(self, record: InterviewRecord, turn: Turn, report: _TurnReport) -> bool:
        ctx = self._ctx
        adapter = ctx.adapter(record.key)
        resumed = turn.id in self._attempted or turn.resumed  # it may have reached the API: look it up first
        self._attempted.add(turn.id)
        tr = catalogue(record.locale)
        stream = await ctx.reach(record, adapter.begin_reply(record.key, record.locale))
        relay = ReplyRelay(stream, adapter.update_interval, tr) if stream is not None else None
        report.relay = relay
        try:
            recovered = await self._recover(record, turn, relay) if resumed else None
            if recovered is not None:
                await self._feed_recovered(relay, recovered)
                text, question, is_complete = recovered.text, recovered.question, recovered.is_complete
            else:
                text, question, is_complete = await self._send(record, turn, relay)
        except asyncio.CancelledError:
            if relay is not None:
                note = self._stop_notes.pop(record.interview_id, None) or texts.restarting(tr)
                with contextlib.suppress(Exception):
                    await relay.fail(Notice(NoticeKind.INFO, note, locale=record.locale))
            raise
        except (AlreadyCompleted, Conflict) as error:
            log.info("interview %s already completed on the API side (%s)", record.interview_id, error.code)
            report.outcome = "ended"
            await self._end(record, "natural", relay)
            return False
        except NotFound as error:  # (a 401 may be a revoked API key: that is a failure to retry, not an end)
            log.warning("interview %s is gone on the API side (%s)", record.interview_id, error.code)
            report.outcome = "ended"
            await self._end(record, "gone", relay)
            return False
        except (InterviewApiError, StreamErrorReported, OSError) as error:
            log.warning("turn failed interview=%s turn=%s: %r", record.interview_id, turn.id, error)
            report.outcome = "failed"
            await self._fail(record, relay, error)
            return False
        except Exception as error:  # a bug must not leave the respondent with silence: they can retry
            log.exception("turn crashed interview=%s turn=%s", record.interview_id, turn.id)
            report.outcome = "failed"
            await self._fail(record, relay, error)
            return False
        await self._deliver(record, turn, relay, text, question, is_complete)
        report.outcome = "ok"
        return not is_complete

    def mark_resumed(self, turn: Turn) -> None:
        """A turn found in flight at start-up: look it up before sending it again."""
        self._attempted.add(turn.id)

    async def _recover(self, record: InterviewRecord, turn: Turn, relay: ReplyRelay | None) -> RecoveredTurn | None:
        """Look the turn up first (a taken-over turn waits for the key's budget like any: its place is shown)."""
        return await self._ctx.client_for(record.study).recover_turn(
            record.interview_id,
            turn.content,
            turns_before=turn.turns_before,
            caller=record.key.as_str(),
            on_queued=relay.queued if relay is not None else None,
        )

    @staticmethod
    async def _feed_recovered(relay: ReplyRelay | None, recovered: RecoveredTurn) -> None:
        if relay is not None and recovered.text:
            await relay.feed(TextReplace(recovered.text))

    async def _send(
        self, record: InterviewRecord, turn: Turn, relay: ReplyRelay | None
    ) -> tuple[str, Question | None, bool]:
        answer: tuple[Question, AnswerValue] | None = None
        if turn.answer is not None:
            answer = (Question.model_validate(turn.answer["question"]), turn.answer["value"])
        events = self._ctx.client_for(record.study).send(
            record.interview_id,
            record.session_token,
            turn.content,
            answer=answer,
            caller=record.key.as_str(),
            on_queued=relay.queued if relay is not None else None,
        )
        sink = relay or ReplyRelay(_Discard(), 0.0)
        async for event in events:
            await sink.feed(event)
        return sink.text, sink.question, sink.is_complete

    async def _deliver(
        self,
        record: InterviewRecord,
        turn: Turn,
        relay: ReplyRelay | None,
        text: str,
        question: Question | None,
        is_complete: bool,
    ) -> None:
        ctx = self._ctx
        now = ctx.clock.now()
        pending = None
        if question is not None and not is_complete:
            pending = PendingQuestion(record.interview_id, question, record.key.user, record.locale)
            await ctx.store.set_pending_question(
                StoredQuestion(record.interview_id, question.id, question.model_dump(mode="json"), now)
            )
        if relay is not None:
            await ctx.reach(record, relay.finish(text, pending))
        async with ctx.locks.hold(record.key.as_str()):
            await ctx.store.finish_turn(turn.id, text, now)
            fresh = await ctx.store.get_interview(record.interview_id)
            if fresh is None or fresh.status is not RecordStatus.ACTIVE:
                return
            fresh.failed_turn = False
            if is_complete:
                await self._on_end(fresh, "natural")
                return
            if not await ctx.store.queued_messages(record.interview_id):
                ctx.set_deadlines(fresh)
            fresh.updated_at = now
            await ctx.store.update_interview(fresh)

    async def _fail(self, record: InterviewRecord, relay: ReplyRelay | None, error: Exception) -> None:
        ctx = self._ctx
        async with ctx.locks.hold(record.key.as_str()):  # stored before the Retry button can be clicked
            fresh = await ctx.store.get_interview(record.interview_id)
            if fresh is not None and fresh.status is RecordStatus.ACTIVE:
                fresh.failed_turn = True
                ctx.set_deadlines(fresh)  # a respondent who walks away from a failed turn still times out
                await ctx.store.update_interview(fresh)
        text = texts.turn_failed(catalogue(record.locale), error)
        notice = Notice(NoticeKind.ERROR, text, (Action.RETRY, Action.END), locale=record.locale)
        if relay is not None:
            await ctx.reach(record, relay.fail(notice))
            return
        try:  # no reply on screen to end: say it on its own
            await ctx.reach(record, ctx.adapter(record.key).notify(record.key, notice))
        except Exception:
            log.exception("the failure notice could not be shown interview=%s", record.interview_id)

    async def _end(self, record: InterviewRecord, why: str, relay: ReplyRelay | None) -> None:
        if relay is not None and why == "gone":
            notice = Notice(NoticeKind.ERROR, texts.gone(catalogue(record.locale)), locale=record.locale)
            await self._ctx.reach(record, relay.fail(notice))
        elif relay is not None:
            await self._ctx.reach(record, relay.finish(relay.text, None))
        async with self._ctx.locks.hold(record.key.as_str()):
            fresh = await self._ctx.store.get_interview(record.interview_id)
            if fresh is not None and fresh.status is RecordStatus.ACTIVE:
                await self._on_end(fresh, why)


@dataclass
class _TurnReport:
    """What the observer learns of one turn: how it ended (``stopped`` unless told otherwise) and its relay."""

    started: float
    outcome: str = "stopped"
    relay: ReplyRelay | None = None


class _Discard:
    """A reply stream nobody sees (the respondent is unreachable): the reply is still stored."""

    async def status(self, text: str) -> None:
        return None

    async def append(self, text: str) -> None:
        return None

    async def finish(self, text: str, question: PendingQuestion | None) -> None:
        return None

    async def fail(self, text_so_far: str, notice: Notice) -> None:
        return None
