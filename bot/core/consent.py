"""Consent before anything is sent: the study's consent text with **I agree** / **No thanks**.

A chosen study does not start at once: its consent text is shown and stored as *asked* (with what the start will
need). Nothing reaches the interview API until the person agrees — the start call itself happens on agreement.
**No thanks** is stored as *declined*: counted for the admins, and the study is not offered to that person again.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from bot.core import privacy_texts
from bot.core.context import CoreContext
from bot.core.events import Outcome, OutcomeKind, RespondentInfo, UserText
from bot.core.i18n import catalogue
from bot.core.keys import ConversationKey
from bot.core.lifecycle import Lifecycle
from bot.core.policy import typed_word
from bot.core.ports import Action, Notice, NoticeKind, RespondentUnreachable
from bot.core.privacy_store import ConsentDecision, ConsentRecord
from bot.core.studies import Study

__all__ = ["AGREE_WORDS", "DECLINE_WORDS", "ConsentDesk"]

log = logging.getLogger("bot.core.consent")

#: Typed answers to a consent text besides the labels themselves (in the reader's language).
AGREE_WORDS = ("i agree", "agree", "yes", "y", "ok")
DECLINE_WORDS = ("no thanks", "no thank you", "no", "n", "decline")
#: The terminal chat's platform: no slash commands there, so its consent text names the typed words instead.
TERMINAL = "terminal"


def _request(key: ConversationKey, respondent: RespondentInfo) -> dict[str, Any]:
    return {
        "channel": key.channel,
        "external_id": respondent.external_id,
        "display_name": respondent.display_name,
        "locale": respondent.locale,
        "metadata": respondent.metadata,
        "groups": sorted(respondent.groups),
    }


def _respondent(request: dict[str, Any]) -> RespondentInfo:
    return RespondentInfo(
        external_id=str(request.get("external_id") or ""),
        display_name=request.get("display_name"),
        locale=request.get("locale"),
        metadata=dict(request.get("metadata") or {}),
        groups=frozenset(request.get("groups") or ()),
    )


class ConsentDesk:
    """Asks for consent, and starts (or not) on the answer. Callers hold the conversation's lock."""

    def __init__(self, ctx: CoreContext, lifecycle: Lifecycle) -> None:
        self._ctx = ctx
        self._lifecycle = lifecycle

    async def ask(
        self, key: ConversationKey, respondent: RespondentInfo, study: Study, offer_later: bool = True
    ) -> Outcome:
        """Show ``study``'s consent text; the interview starts when the person agrees.

        ``offer_later`` False (a handoff, which waits for this answer): the text offers no **Remind me later**.
        """
        ctx = self._ctx
        locale = respondent.locale or study.locale or ctx.config.locale
        tr = catalogue(locale)
        record = ConsentRecord(
            key.platform,
            key.workspace,
            key.user,
            study.id,
            ConsentDecision.ASKED,
            ctx.clock.now(),
            {**_request(key, respondent), "offer_later": offer_later},
        )
        await ctx.store.save_consent(record)
        text = privacy_texts.consent_text(tr, study, ctx.config.retention_days, terminal=key.platform == TERMINAL)
        later = study.id if offer_later else None  # the study named on the notice: Discord's "Remind me later"
        notice = Notice(NoticeKind.CONSENT, text, (Action.AGREE, Action.DECLINE), locale=locale, study=later)
        try:
            await ctx.adapter(key).notify(key, notice)
        except RespondentUnreachable:  # never shown (DMs closed): nothing typed there later may count as consent
            await ctx.store.save_consent(dataclasses.replace(record, request={}))
            raise
        log.info("consent asked study=%s platform=%s", study.id, key.platform)
        return Outcome(OutcomeKind.ACCEPTED)

    async def waiting(self, key: ConversationKey) -> ConsentRecord | None:
        """The consent text this conversation shows unanswered, if any (the latest)."""
        asked = [
            record
            for record in await self._ctx.store.consents_of(key.platform, key.workspace, key.user)
            if record.decision is ConsentDecision.ASKED and record.request.get("channel") == key.channel
        ]
        return asked[-1] if asked else None

    async def reply(self, key: ConversationKey, agreed: bool, locale: str | None = None) -> Outcome:
        """**I agree** starts the interview (the first call to the API); **No thanks** starts nothing."""
        ctx = self._ctx
        record = await self.waiting(key)
        tr = catalogue(locale or ctx.config.locale)
        study = ctx.studies.get(record.study) if record is not None else None
        if record is None or study is None:
            return Outcome(OutcomeKind.STALE, tr.gettext("This has been answered already."))
        respondent = _respondent(record.request)
        decision = ConsentDecision.AGREED if agreed else ConsentDecision.DECLINED
        await ctx.store.save_consent(
            ConsentRecord(key.platform, key.workspace, key.user, study.id, decision, ctx.clock.now())
        )
        log.info("consent %s study=%s platform=%s", decision.value, study.id, key.platform)
        if agreed:
            return await self._lifecycle.start(key, respondent, study)
        ctx.hooks.fire_declined(key, study.id)  # e.g. a handoff waiting for this answer
        said_locale = respondent.locale or study.locale or ctx.config.locale
        text = privacy_texts.declined(catalogue(said_locale), study)
        await ctx.adapter(key).notify(key, Notice(NoticeKind.DECLINED, text, locale=said_locale))
        return Outcome(OutcomeKind.ACCEPTED, text)

    async def typed(self, event: UserText) -> Outcome | None:
        """A message while a consent text waits (no interview running): the typed answer, else a reminder.

        None when no consent text waits in this conversation.
        """
        record = await self.waiting(event.key)
        if record is None:
            return None
        locale = record.request.get("locale") or event.respondent.locale or self._ctx.config.locale
        tr = catalogue(locale)
        word = typed_word(event.text)
        if word in (*AGREE_WORDS, privacy_texts.agree_label(tr).lower()):
            return await self.reply(event.key, True, locale)
        if word in (*DECLINE_WORDS, privacy_texts.decline_label(tr).lower()):
            return await self.reply(event.key, False, locale)
        reminder = privacy_texts.consent_reminder(tr)
        later = record.study if record.request.get("offer_later", True) else None
        notice = Notice(NoticeKind.CONSENT, reminder, (Action.AGREE, Action.DECLINE), locale=locale, study=later)
        await self._ctx.adapter(event.key).notify(event.key, notice)
        return Outcome(OutcomeKind.REJECTED, reminder)
