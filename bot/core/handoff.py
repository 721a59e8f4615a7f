"""Handing a user over from another bot into an interview, with the person's consent first.

:meth:`Handoffs.hand_over` checks the request, opens the person's DM and stores the handoff *before* anything is
asked or started. Then it posts the study's consent text there (``consent_pending``): nothing reaches the
interview API until the person agrees. **I agree** starts the interview (``accepted``, with its id), **No thanks**
ends the handoff (``declined``), no answer in :attr:`Handoffs.consent_timeout` seconds ``expired``. A person who
said no to the study before is refused at once (``declined``); one who agreed before is not asked again (the
interview starts at once). Every move is read from the store (:meth:`Handoffs.reconcile`, swept; the lifecycle
hooks make it prompt), so a crash between the start call and storing its outcome is settled by the next sweep or
by a retry with the same ``Idempotency-Key``, never answered with a second interview or a 409.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import uuid
from collections.abc import Awaitable, Callable

from bot.core.choosing import StudyGate
from bot.core.context import CoreContext
from bot.core.endings import EndReason
from bot.core.events import InboundEvent, Outcome, OutcomeKind, RespondentInfo, Start
from bot.core.handoff_news import HandoffNews
from bot.core.handoff_types import (
    DirectMessages,
    HandoffCode,
    HandoffError,
    HandoffRequest,
    HandoffSummary,
    context_problem,
    request_hash,
)
from bot.core.keys import ConversationKey
from bot.core.locks import KeyedLocks
from bot.core.ports import RespondentUnreachable
from bot.core.privacy_store import ConsentDecision, ConsentRecord
from bot.core.store import HandoffRecord, HandoffStatus, InterviewRecord, RecordStatus
from bot.core.studies import Study

__all__ = ["HandoffHandle", "Handoffs"]

log = logging.getLogger("bot.core.handoff")

#: Handoffs a minute, across instances (counted in the store); more get ``rate_limited`` with ``Retry-After``.
DEFAULT_RATE_LIMIT = 30
#: How long the person has to answer the consent text (``HANDOFF_CONSENT_TIMEOUT``).
DEFAULT_CONSENT_TIMEOUT = 24 * 3600.0
#: A start that neither succeeded nor failed (the bot died during it) is given up after this long.
START_PATIENCE = 600.0


class HandoffHandle:
    """A handoff, for a bot that embeds the bridge: its ids and status when made, and :meth:`wait_ended`."""

    def __init__(self, handoffs: Handoffs, record: HandoffRecord) -> None:
        self.handoff_id = record.handoff_id
        self.interview_id = record.interview_id  # None while the consent text waits for an answer
        self.status = record.status
        self.key = record.key
        self._handoffs = handoffs

    async def wait_ended(self) -> HandoffSummary:
        """Wait until the handoff ends: its interview ended (the summary, as the ``completed`` callback has it), or
        it never started (``end_reason`` ``declined``, ``expired`` or ``cancelled``)."""
        return await self._handoffs.wait_ended(self.handoff_id)


class Handoffs:
    """Starts handed-over interviews once the person agrees, and keeps their callbacks in the store's outbox."""

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
        self.news = HandoffNews(ctx)
        self.rate_limit = DEFAULT_RATE_LIMIT
        self.consent_timeout = DEFAULT_CONSENT_TIMEOUT
        self._requests = KeyedLocks()  # one request per Idempotency-Key at a time
        self._moves = KeyedLocks()  # one move per handoff at a time
        self._waiting: dict[str, list[asyncio.Future[HandoffSummary]]] = {}
        ctx.hooks.ended.append(self._ended)
        ctx.hooks.started.append(self._started)
        ctx.hooks.declined.append(self._declined)

    def now(self) -> float:
        """The core's clock."""
        return self._ctx.clock.now()

    # --- starting ---

    async def hand_over(self, request: HandoffRequest) -> HandoffHandle:
        """Ask the person for consent in their DM (or start at once if they gave it before); raises
        :class:`HandoffError` saying why not."""
        try:
            problem = context_problem(request.context)
            if problem is not None:
                raise HandoffError(HandoffCode.INVALID_REQUEST, problem)
            fingerprint = request_hash(request)
            async with self._requests.hold(request.idempotency_key or uuid.uuid4().hex):
                found = None
                if request.idempotency_key:  # the same request again: the same handoff
                    found = await self._ctx.store.handoff_by_idempotency_key(request.idempotency_key)
                if found is None:
                    return HandoffHandle(self, await self._begin(request, fingerprint))
                if found.request_hash is not None and found.request_hash != fingerprint:
                    raise HandoffError(
                        HandoffCode.IDEMPOTENCY_KEY_REUSED,
                        "this Idempotency-Key was used for a different request "
                        f"(handoff {found.handoff_id}); use a new key for a new request",
                    )
                return HandoffHandle(self, await self._resume(found, request))
        except HandoffError as error:
            self._ctx.observer.handoff_changed(platform=request.platform, outcome=error.code.value)
            raise

    async def _begin(self, request: HandoffRequest, fingerprint: str) -> HandoffRecord:
        ctx = self._ctx
        study = ctx.studies.get(request.study)
        if study is None:
            known = ", ".join(s.id for s in ctx.studies.studies)
            raise HandoffError(HandoffCode.INVALID_REQUEST, f"no study {request.study!r}; studies: {known}")
        await self._check_rate()
        key, respondent = await self._open(request)
        running = await ctx.store.active_interview(key)
        if running is not None:
            raise _already(running.interview_id)
        if await self._gate.declined(study, key):
            raise HandoffError(
                HandoffCode.DECLINED,
                "the user said no thanks to this study's consent text before; they are not asked again",
            )
        refusal = await self._gate.refusal(study, key, respondent.groups, "en")
        if refusal is not None:
            raise HandoffError(HandoffCode.STUDY_CLOSED, refusal)
        agreed = await self._agreed_before(key, study)
        now = ctx.clock.now()
        intent = HandoffRecord(
            handoff_id=f"ho_{uuid.uuid4().hex}",
            key=key,
            study=study.id,
            interview_id=None,
            context=dict(request.context),
            callback_url=request.callback_url,
            idempotency_key=request.idempotency_key,
            status=HandoffStatus.STARTING if agreed else HandoffStatus.CONSENT_PENDING,
            created_at=now,
            updated_at=now,
            request_hash=fingerprint,
            expires_at=now + (START_PATIENCE if agreed else self.consent_timeout),
        )
        stored = await ctx.store.create_handoff(intent)  # the intent first: a crash after this is settled later
        if stored.handoff_id != intent.handoff_id:  # another instance took this Idempotency-Key a moment ago
            return await self._resume(stored, request)
        return await self._ask_or_start(stored, request, (key, respondent))

    async def _ask_or_start(
        self,
        record: HandoffRecord,
        request: HandoffRequest,
        opened: tuple[ConversationKey, RespondentInfo] | None = None,
    ) -> HandoffRecord:
        """Post the consent text (``consent_pending``) or, when the person agreed before, start (``starting``)."""
        key, respondent = opened or await self._open(request)
        respondent = dataclasses.replace(respondent, metadata={**respondent.metadata, **request.context})
        starting = record.status is HandoffStatus.STARTING
        outcome = await self._handle(Start(key, respondent, record.study, consented=starting, handed_over=True))
        if outcome.kind is OutcomeKind.ACCEPTED and (outcome.interview_id is not None or not starting):
            if outcome.interview_id is not None:
                return await self._accept(record, outcome.interview_id)
            self._ctx.observer.handoff_changed(platform=key.platform, outcome="consent_pending")
            log.info("handoff waits for consent handoff=%s study=%s", record.handoff_id, record.study)
            return record
        settled = await self.settle(record)  # e.g. another instance's start went through meanwhile
        if settled.status is HandoffStatus.ACCEPTED:
            return settled
        await self._ctx.store.delete_handoff(record.handoff_id)  # refused: nothing is left half-started
        raise await self._refused(key, outcome)

    async def _resume(self, record: HandoffRecord, request: HandoffRequest) -> HandoffRecord:
        """A retry of a stored request: its handoff, finishing what a crash may have cut short — the consent text
        never posted, or the start (after I agree, or for a person who agreed before) never done."""
        async with self._ctx.locks.hold(record.key.as_str()):  # a start in flight (here or elsewhere) ends first
            record = await self.settle(record)
        if record.status is HandoffStatus.CONSENT_PENDING:
            consent = await self._consent_since(record)
            if consent is not None and consent.decision is not ConsentDecision.AGREED:
                return record  # the consent text waits for an answer
            if consent is not None:  # agreed, but no interview came of it: start it now
                record.status, record.expires_at = HandoffStatus.STARTING, self._ctx.clock.now() + START_PATIENCE
                await self._ctx.store.update_handoff(record)
        elif record.status is not HandoffStatus.STARTING:
            return record
        if (running := await self._ctx.store.active_interview(record.key)) is not None:
            raise _already(running.interview_id)
        return await self._ask_or_start(record, request)

    async def _open(self, request: HandoffRequest) -> tuple[ConversationKey, RespondentInfo]:
        adapter = self._ctx.adapters.get(request.platform)
        if not isinstance(adapter, DirectMessages):
            raise HandoffError(HandoffCode.INVALID_REQUEST, f"this bot does not serve {request.platform!r}")
        try:
            return await adapter.open_direct(request.workspace, request.user)
        except RespondentUnreachable as error:
            raise HandoffError(HandoffCode.USER_UNREACHABLE, f"the user cannot be messaged: {error}") from None

    async def _agreed_before(self, key: ConversationKey, study: Study) -> bool:
        records = await self._ctx.store.consents_of(key.platform, key.workspace, key.user)
        return any(r.study == study.id and r.decision is ConsentDecision.AGREED for r in records)

    async def _consent_since(self, record: HandoffRecord) -> ConsentRecord | None:
        """The person's consent record for the handoff's study, if it was asked or answered since the handoff."""
        key = record.key
        for consent in await self._ctx.store.consents_of(key.platform, key.workspace, key.user):
            if consent.study == record.study and consent.at >= record.created_at:
                return consent
        return None

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
            return _already(running.interview_id)
        if outcome.kind is OutcomeKind.REJECTED:
            return HandoffError(HandoffCode.STUDY_CLOSED, message)
        return HandoffError(HandoffCode.UNAVAILABLE, "the interview could not be started; try again later")

    # --- moving on: agreed, declined, expired (read from the store) ---

    async def settle(self, record: HandoffRecord) -> HandoffRecord:
        """Move a waiting handoff on by what the store says: the person's interview started (``accepted``), they
        said no (``declined``), or time ran out (``expired``). The record as it is afterwards."""
        if not record.status.waiting:
            return record
        async with self._moves.hold(record.handoff_id):
            current = await self._ctx.store.get_handoff(record.handoff_id)
            if current is None or not current.status.waiting:
                return current or record
            consent = await self._consent_since(current)
            agreed = consent is not None and consent.decision is ConsentDecision.AGREED
            interview = await self._interview_since(current)
            if interview is not None and (agreed or current.status is HandoffStatus.STARTING):
                return await self._move(current, HandoffStatus.ACCEPTED, interview.interview_id)
            declined = consent is not None and consent.decision is ConsentDecision.DECLINED
            if current.status is HandoffStatus.CONSENT_PENDING and declined:
                return await self._move(current, HandoffStatus.DECLINED)
            if current.expires_at is not None and self._ctx.clock.now() >= current.expires_at:
                return await self._move(current, HandoffStatus.EXPIRED)
            return current

    async def _accept(self, record: HandoffRecord, interview_id: str) -> HandoffRecord:
        async with self._moves.hold(record.handoff_id):
            current = await self._ctx.store.get_handoff(record.handoff_id) or record
            if not current.status.waiting:
                return current
            return await self._move(current, HandoffStatus.ACCEPTED, interview_id)

    async def _move(
        self, record: HandoffRecord, status: HandoffStatus, interview_id: str | None = None
    ) -> HandoffRecord:
        """Store the new status (the caller holds the handoff's move lock), queue its callback, tell the waiters."""
        record.status, record.interview_id = status, interview_id or record.interview_id
        record.expires_at, record.updated_at = None, self._ctx.clock.now()
        await self._ctx.store.update_handoff(record)
        if status is not HandoffStatus.CANCELLED:
            await self.news.queue(record, status.value, {})
        self._ctx.observer.handoff_changed(platform=record.key.platform, outcome=status.value)
        log.info("handoff %s handoff=%s interview=%s", status.value, record.handoff_id, record.interview_id)
        await self._wake(record.handoff_id)
        return record

    async def _interview_since(self, record: HandoffRecord) -> InterviewRecord | None:
        """The person's interview of the handoff's study, in its conversation, started since the handoff."""
        key = record.key
        for interview in await self._ctx.store.interviews_of_user(key.platform, key.user, limit=20):
            if interview.key == key and interview.study == record.study and interview.created_at >= record.created_at:
                return interview
        return None

    async def _settle_conversation(self, key: ConversationKey) -> None:
        for record in await self._ctx.store.waiting_handoffs(key):
            await self.settle(record)

    async def _started(self, key: ConversationKey, interview_id: str) -> None:
        """``on_started``: a waiting handoff of this conversation may just have been agreed to."""
        await self._settle_conversation(key)

    async def _declined(self, key: ConversationKey, study: str) -> None:
        """``on_declined``: a waiting handoff of this conversation may just have been said no to."""
        await self._settle_conversation(key)

    async def reconcile(self) -> int:
        """Settle waiting handoffs (expiring the overdue), then queue ``completed`` and ``analysed`` for the
        others (:meth:`HandoffNews.reconcile`). Idempotent; returns how many handoffs moved on."""
        moved = 0
        for record in await self._ctx.store.waiting_handoffs():
            if (await self.settle(record)).status is not record.status:
                moved += 1
        return moved + await self.news.reconcile()

    # --- reading and cancelling ---

    async def get(self, handoff_id: str) -> HandoffRecord:
        """The stored handoff; raises ``not_found``."""
        record = await self._ctx.store.get_handoff(handoff_id)
        if record is None:
            raise HandoffError(HandoffCode.NOT_FOUND, "no such handoff")
        return record

    async def cancel(self, handoff_id: str) -> HandoffRecord:
        """End the handoff: its interview ends with reason ``manual`` (the person is thanked); one still waiting
        for the person's consent is ``cancelled``. The record afterwards."""
        record = await self.settle(await self.get(handoff_id))
        if record.status.waiting:
            async with self._moves.hold(record.handoff_id):
                current = await self.get(handoff_id)
                if current.status.waiting:
                    return await self._move(current, HandoffStatus.CANCELLED)
            record = await self.get(handoff_id)
        interview = await self._ctx.store.get_interview(record.interview_id or "")
        if interview is not None and interview.status is RecordStatus.ACTIVE:
            await self._end(record.key, EndReason.MANUAL)
        await self.reconcile()
        return await self.get(handoff_id)

    # --- in-process handles ---

    async def wait_ended(self, handoff_id: str) -> HandoffSummary:
        """The summary once the handoff ends (at once if it already has)."""
        future: asyncio.Future[HandoffSummary] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(handoff_id, []).append(future)
        try:
            await self._wake(handoff_id)
            return await future
        finally:
            waiting = [f for f in self._waiting.get(handoff_id, []) if f is not future]
            self._waiting[handoff_id] = waiting
            if not waiting:
                self._waiting.pop(handoff_id, None)

    async def _wake(self, handoff_id: str) -> None:
        futures = [f for f in self._waiting.get(handoff_id, []) if not f.done()]
        if not futures:
            return
        summary = await self.news.summary(handoff_id)
        for future in futures:
            if summary is not None and not future.done():
                future.set_result(summary)

    async def _ended(self, key: ConversationKey, interview_id: str, reason: EndReason) -> None:
        """``on_ended``: resolve the waiting handles; the sweep queues the callback from the store."""
        for handoff_id in list(self._waiting):
            await self._wake(handoff_id)


def _already(interview_id: str) -> HandoffError:
    return HandoffError(
        HandoffCode.ALREADY_IN_INTERVIEW, "the user is in an interview already", interview_id=interview_id
    )
