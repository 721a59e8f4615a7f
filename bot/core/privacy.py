"""Data rights: forget me (erasure), my data (access), retention, and the consent desk's entry points.

Erasure removes everything this bot stores about one person in one transaction and keeps only the erasure log's
salted hash and date. The interview service keeps its own copy: its API documents no delete endpoint, and the
person is told so, plainly.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.core import privacy_texts
from bot.core.consent import ConsentDesk
from bot.core.context import CoreContext
from bot.core.endings import EndReason
from bot.core.events import (
    ConsentReply,
    DataFile,
    ForgetMe,
    InboundEvent,
    MyData,
    Outcome,
    OutcomeKind,
    UserText,
)
from bot.core.i18n import catalogue
from bot.core.invitations import Invitation
from bot.core.keys import ConversationKey
from bot.core.lifecycle import Lifecycle
from bot.core.policy import typed_word
from bot.core.ports import Action, Notice, NoticeKind
from bot.core.posted_cards import CardsErased, PostedCards
from bot.core.store import InterviewRecord, RecordStatus

__all__ = ["DAY", "Erasure", "PrivacyDesk"]

log = logging.getLogger("bot.core.privacy")

DAY = 86_400.0
#: Where a forget-me waiting for its confirmation is noted (keyed by the conversation, so it is erased with it).
FORGET_SCOPE = "forget-me"
_CONFIRM_WORDS = ("yes", "y", "erase", "delete", "confirm")
_KEEP_WORDS = ("no", "n", "keep", "cancel")


def _iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat()


@dataclass(frozen=True, slots=True)
class Erasure:
    """What one erasure removed (counts per kind) and when."""

    removed: dict[str, int]
    at: float
    cards: CardsErased

    @property
    def interviews(self) -> int:
        """Interviews erased."""
        return self.removed.get("interviews", 0)

    @property
    def anything(self) -> bool:
        """Whether anything at all was stored."""
        return any(self.removed.values())


class PrivacyDesk:
    """Consent answers, forget-me, my-data and retention. Callers of :meth:`intercept` hold the conversation's lock."""

    def __init__(self, ctx: CoreContext, lifecycle: Lifecycle) -> None:
        self._ctx = ctx
        self._lifecycle = lifecycle
        self.consent = ConsentDesk(ctx, lifecycle)
        self.pseudonyms = ctx.pseudonyms
        self.cards = PostedCards(ctx)

    # --- events ---

    async def intercept(
        self, event: InboundEvent, active_of: Callable[[ConversationKey], Awaitable[InterviewRecord | None]]
    ) -> Outcome | None:
        """Act on a privacy event, or a message that is one; None for everything else (``active_of``: the
        conversation's running interview, looked up for a message only)."""
        if isinstance(event, ConsentReply):
            return await self.consent.reply(event.key, event.agreed, event.locale)
        if isinstance(event, ForgetMe):
            return await self.forget_me(event)
        if isinstance(event, MyData):
            return await self.my_data(event.key, event.locale)
        if not isinstance(event, UserText):
            return None
        active = await active_of(event.key)
        locale = event.respondent.locale or (active.locale if active is not None else None) or self._ctx.config.locale
        tr = catalogue(locale)
        word = typed_word(event.text)
        if word in privacy_texts.delete_phrases(tr):
            return await self.forget_me(ForgetMe(event.key, locale=locale))
        if await self._ctx.store.get_state(FORGET_SCOPE, event.key.as_str()) is not None:
            if word in (*_CONFIRM_WORDS, privacy_texts.forget_label(tr).lower()):
                return await self.forget_me(ForgetMe(event.key, confirmed=True, locale=locale))
            if word in (*_KEEP_WORDS, privacy_texts.keep_label(tr).lower()):
                return await self.forget_me(ForgetMe(event.key, cancel=True, locale=locale))
            await self._ctx.store.put_state(FORGET_SCOPE, event.key.as_str(), None)  # moved on: ask again next time
        if active is None:
            return await self.consent.typed(event)
        return None

    async def forget_me(self, event: ForgetMe) -> Outcome:
        """Ask first; on confirmation erase everything about the person and say what was erased."""
        key, store = event.key, self._ctx.store
        tr = catalogue(event.locale or self._ctx.config.locale)
        if event.cancel:
            await store.put_state(FORGET_SCOPE, key.as_str(), None)
            text = privacy_texts.forget_cancelled(tr)
            await self._ctx.adapter(key).notify(key, Notice(NoticeKind.INFO, text, locale=event.locale))
            return Outcome(OutcomeKind.ACCEPTED, text)
        if not await self.stores_anything(key.platform, key.workspace, key.user):
            text = privacy_texts.nothing_stored(tr, await self.erased_at(key.platform, key.workspace, key.user))
            return await self._say(key, text, event.locale, OutcomeKind.NO_INTERVIEW)
        if not event.confirmed:
            await store.put_state(FORGET_SCOPE, key.as_str(), {"asked_at": self._ctx.clock.now()})
            text = privacy_texts.forget_confirm(tr)
            notice = Notice(NoticeKind.CONFIRM_FORGET, text, (Action.FORGET, Action.KEEP), locale=event.locale)
            await self._ctx.adapter(key).notify(key, notice)
            return Outcome(OutcomeKind.ACCEPTED, text)
        erasure = await self.forget(key.platform, key.workspace, key.user, holding=key)
        text = privacy_texts.erased(tr, erasure.interviews, erasure.removed.get("transcript", 0), erasure.cards)
        return await self._say(key, text, event.locale, OutcomeKind.ACCEPTED, NoticeKind.ERASED)

    async def _say(
        self,
        key: ConversationKey,
        text: str,
        locale: str | None,
        kind: OutcomeKind,
        notice: NoticeKind = NoticeKind.INFO,
    ) -> Outcome:
        await self._ctx.adapter(key).notify(key, Notice(notice, text, locale=locale))
        return Outcome(kind, text)

    # --- erasure ---

    def _scope(self, platform: str, workspace: str) -> str | None:
        """The workspace an erasure is limited to: Slack ids belong to a workspace, Discord ids are global."""
        return workspace if platform == "slack" else None

    async def _records(self, platform: str, workspace: str, user: str) -> list[InterviewRecord]:
        scope = self._scope(platform, workspace)
        found = await self._ctx.store.interviews_of_user(platform, user, limit=10_000)
        return [r for r in found if scope is None or r.key.workspace == scope]

    async def stores_anything(self, platform: str, workspace: str, user: str) -> bool:
        """Whether any interview, consent record, invitation or opt-out of the person is stored."""
        if await self._records(platform, workspace, user):
            return True
        if await self._ctx.store.consents_of(platform, workspace, user):
            return True
        return bool(
            await self._invitations(platform, workspace, user) or await self._opt_outs(platform, workspace, user)
        )

    async def _invitations(self, platform: str, workspace: str, user: str) -> list[Invitation]:
        scope = self._scope(platform, workspace)
        found = await self._ctx.store.invitations_of(platform, user)
        return [i for i in found if scope is None or i.workspace == scope]

    async def _opt_outs(self, platform: str, workspace: str, user: str) -> list[tuple[str, float]]:
        scope = self._scope(platform, workspace)
        return [o for o in await self._ctx.store.opt_outs_of(platform, user) if scope is None or o[0] == scope]

    async def erased_at(self, platform: str, workspace: str, user: str) -> float | None:
        """When this person was forgotten, from the erasure log (None: never)."""
        return await self._ctx.store.erased_at(await self.pseudonyms.erasure(platform, workspace, user))

    async def forget(
        self, platform: str, workspace: str, user: str, *, holding: ConversationKey | None = None
    ) -> Erasure:
        """Erase the person: running interviews end first (on the API too), then every stored row goes.

        ``holding``: the conversation whose lock the caller holds already (the others' are taken here).
        """
        ctx = self._ctx
        for record in await self._records(platform, workspace, user):
            if record.status is RecordStatus.COMPLETED:
                continue
            if holding is not None and record.key == holding:
                await self._lifecycle.complete(record, EndReason.RESPONDENT_LEFT, notify=False)
                continue
            async with ctx.locks.hold(record.key.as_str()):
                current = await ctx.store.get_interview(record.interview_id)
                if current is not None and current.status is not RecordStatus.COMPLETED:
                    await self._lifecycle.complete(current, EndReason.RESPONDENT_LEFT, notify=False)
        cards = await self.cards.erase([r.interview_id for r in await self._records(platform, workspace, user)])
        now = ctx.clock.now()
        erasure = await self.pseudonyms.erasure(platform, workspace, user)
        removed = await ctx.store.forget_user(platform, self._scope(platform, workspace), user, erasure, now)
        await self.pseudonyms.forbid_contact(erasure)  # an opt-in since an earlier erasure no longer holds
        log.info("erased a person platform=%s removed=%s cards=%s", platform, removed, cards)
        return Erasure(removed, now, cards)

    # --- access ---

    async def my_data(self, key: ConversationKey, locale: str | None) -> Outcome:
        """Everything stored about the person as a JSON file, for them alone."""
        tr = catalogue(locale or self._ctx.config.locale)
        document = await self.export(key.platform, key.workspace, key.user)
        if not any(document[part] for part in ("interviews", "consents", "invitations", "opted_out")):
            text = privacy_texts.nothing_stored(tr, await self.erased_at(key.platform, key.workspace, key.user))
            return Outcome(OutcomeKind.NO_INTERVIEW, text)
        content = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
        return Outcome(OutcomeKind.ACCEPTED, privacy_texts.my_data_sent(tr), file=DataFile("my-data.json", content))

    async def export(self, platform: str, workspace: str, user: str) -> dict[str, Any]:
        """The document of ``/interview my-data``: the person's interviews with their transcripts, their consents,
        the invitations they got and their opt-outs ("Don't ask me again")."""
        store = self._ctx.store
        interviews = []
        for record in await self._records(platform, workspace, user):
            pending = await store.pending_question(record.interview_id)
            interviews.append(
                {
                    "interview_id": record.interview_id,
                    "study": record.study,
                    "status": record.status.value,
                    "locale": record.locale,
                    "started_at": _iso(record.created_at),
                    "ended_at": _iso(record.completed_at),
                    "end_reason": record.completion_reason,
                    "transcript": [
                        {"role": line.role, "text": line.content, "at": _iso(line.at)}
                        for line in await store.transcript(record.interview_id)
                    ],
                    "waiting_to_be_sent": [m.content for m in await store.queued_messages(record.interview_id)],
                    "question_waiting": pending.question if pending is not None else None,
                }
            )
        consents = [
            {"study": c.study, "decision": c.decision.value, "at": _iso(c.at)}
            for c in await store.consents_of(platform, workspace, user)
        ]
        invitations = [
            {
                "study": i.study,
                "state": i.state.value,
                "invited_at": _iso(i.created_at),
                "updated_at": _iso(i.updated_at),
            }
            for i in await self._invitations(platform, workspace, user)
        ]
        opted_out = [
            {"workspace": where or None, "at": _iso(at)}
            for where, at in await self._opt_outs(platform, workspace, user)
        ]
        return {
            "about": {"platform": platform, "workspace": workspace or None, "user": user},
            "exported_at": _iso(self._ctx.clock.now()),
            "interviews": interviews,
            "consents": consents,
            "invitations": invitations,
            "opted_out": opted_out,
        }

    # --- retention ---

    async def housekeeping(self) -> None:
        """The sweep's periodic part: the retention purge, and the results cards of erased people still to delete."""
        await self.purge_expired()
        await self.cards.retry()

    async def purge_expired(self) -> int:
        """Delete the local transcripts and analyses of interviews that ended more than ``retention_days`` ago."""
        cutoff = self._ctx.clock.now() - self._ctx.config.retention_days * DAY
        purged = await self._ctx.store.purge_ended_before(cutoff)
        if purged:
            log.info("retention: purged the transcripts of %d interviews", purged)
        return purged
