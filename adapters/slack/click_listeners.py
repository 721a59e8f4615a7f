"""Bolt listeners for clicks: question widgets, notice buttons (Retry, End, …) and the "other" modal.

Every interaction is acknowledged first (well within Slack's 3 s) and worked on afterwards. Whether the clicker
may work a question's widget is the core's answer (``Bridge.may_answer``), never worked out here.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError

from adapters.slack.adapter import conversation_key
from adapters.slack.blocks import (
    NOTICE_ACTION_PREFIX,
    STUDY_SELECT_ACTION,
    QuestionRef,
    text_sections,
)
from adapters.slack.calls import error_code
from adapters.slack.clicks import Chosen, Ignore, Invalid, OpenOther, Redraw, interpret_click
from adapters.slack.plumbing import team_of
from adapters.slack.shared import ListenerDeps, stale_text
from bot.api.models import Question
from bot.core import (
    Action,
    Answer,
    CancelExit,
    Catalogue,
    ConsentReply,
    ConversationKey,
    Exit,
    ForgetMe,
    InboundEvent,
    Outcome,
    OutcomeKind,
    RespondentUnreachable,
    Retry,
    Start,
    action_label,
    catalogue,
)

__all__ = ["OTHER_VIEW", "ClickListeners"]

log = logging.getLogger("adapters.slack")

OTHER_VIEW = "ib_other"


class ClickListeners:
    """Clicks on questions and notices, and the "other" modal's submit."""

    def __init__(self, deps: ListenerDeps) -> None:
        self.deps = deps

    async def on_action(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        context: AsyncBoltContext,
    ) -> None:
        """A click on a question or a notice button."""
        await ack()
        try:
            await self._on_action(body, action, respond, context["locale"])
        except RespondentUnreachable:
            log.info("slack click: the respondent can no longer be reached")
        except Exception as error:  # after the ack: answered here (see plumbing.answer_failures)
            await self.deps.failures(error, body, context, respond)

    async def _tell(self, respond: AsyncRespond, key: ConversationKey, text: str, thread_ts: Any) -> None:
        """Answer the clicker only (through the interaction's response_url, else chat.postEphemeral)."""
        try:
            await respond(text=text, response_type="ephemeral", replace_original=False)
        except Exception:  # no response_url (e.g. a modal) or it expired
            await self.deps.adapter.ephemeral(key, key.channel, text, thread_ts)

    async def _on_action(
        self, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, locale: str | None
    ) -> None:
        team, user = team_of(body), str(body["user"]["id"])
        container = body.get("container") or {}
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        key = conversation_key(team, channel, user)
        event_id = f"act:{body.get('trigger_id') or action.get('action_ts')}"
        action_id = str(action.get("action_id", ""))
        message = body.get("message")
        thread_ts = container.get("thread_ts")
        tr = catalogue(locale)
        if action_id == STUDY_SELECT_ACTION:  # the person picked one of several open studies
            picked = str((action.get("selected_option") or {}).get("value") or "") or None
            problem = await self._start_from_click(key, picked, event_id, message, Action.NEW_INTERVIEW, locale)
            if problem:
                await self._tell(respond, key, problem, thread_ts)
            return
        if action_id.startswith(NOTICE_ACTION_PREFIX):
            name = action_id[len(NOTICE_ACTION_PREFIX) :]
            problem = await self._notice_action(key, name, event_id, message, locale)
            if problem:
                await self._tell(respond, key, problem, thread_ts)
            return
        ref = QuestionRef.parse(action.get("block_id"))
        question = await self._question(ref) if ref else None
        if ref is None or question is None:
            await self._tell(respond, key, stale_text(tr), thread_ts)
            return
        result = interpret_click(tr, question, ref, action, body.get("state") or {})
        if isinstance(result, Ignore):
            return
        if isinstance(result, Invalid):
            await self._tell(respond, key, result.message, thread_ts)
            return
        if isinstance(result, Chosen):
            outcome = await self.deps.bridge.handle(
                Answer(key, user, ref.interview_id, ref.question_id, result.value, event_id=event_id, locale=locale)
            )
            if outcome.ok:
                await self.deps.adapter.mark_answered(key, ref, question, result.value, message, tr)
            elif outcome.kind is not OutcomeKind.DUPLICATE:
                await self._tell(respond, key, outcome.message or stale_text(tr), thread_ts)
            return
        problem = await self._may_act(ref, user, tr)
        if problem is not None:
            await self._tell(respond, key, problem, thread_ts)
            return
        if isinstance(result, Redraw):
            try:
                await self.deps.adapter.replace_question_blocks(key, ref, result.blocks, message, tr)
            except SlackApiError as error:
                log.info("slack could not redraw a question (%s)", error_code(error))
                failed = tr.gettext(
                    "Slack didn't take that step — please try again, or type your answer in the thread."
                )
                await self._tell(respond, key, failed, thread_ts)
        elif isinstance(result, OpenOther):
            await self._open_other(body, key, ref, question.text, str(container.get("message_ts") or ""), tr)

    async def _may_act(self, ref: QuestionRef, user: str, tr: Catalogue) -> str | None:
        """Why ``user`` may not work this question's widget (someone else's, stale), or None: the core decides."""
        verdict = await self.deps.bridge.may_answer(user, ref.interview_id, ref.question_id, tr.language)
        return None if verdict.ok else (verdict.message or stale_text(tr))

    async def _question(self, ref: QuestionRef) -> Question | None:
        """The clicked question: as the adapter posted it, else the one the core has pending."""
        question = await self.deps.adapter.stored_question(ref.interview_id, ref.question_id)
        if question is None:
            pending = await self.deps.bridge.pending_in(ref.interview_id)
            question = pending.question if pending is not None and pending.question.id == ref.question_id else None
        return question

    async def _notice_action(
        self, key: ConversationKey, name: str, event_id: str, message: dict[str, Any] | None, locale: str | None
    ) -> str | None:
        """Act on a notice button; returns what to tell the clicker, if anything."""
        try:
            act = Action(name)
        except ValueError:
            return None
        user = key.user
        event: InboundEvent
        if act is Action.RETRY:
            event = Retry(key, actor=user, event_id=event_id, locale=locale)
        elif act is Action.END:
            event = Exit(key, confirmed=False, actor=user, event_id=event_id, locale=locale)
        elif act is Action.CONFIRM_EXIT:
            event = Exit(key, confirmed=True, actor=user, event_id=event_id, locale=locale)
        elif act is Action.CANCEL_EXIT:
            event = CancelExit(key, actor=user, event_id=event_id, locale=locale)
        elif act in (Action.AGREE, Action.DECLINE):
            event = ConsentReply(key, act is Action.AGREE, actor=user, event_id=event_id, locale=locale)
        elif act in (Action.FORGET, Action.KEEP):
            keep = act is Action.KEEP
            event = ForgetMe(key, confirmed=True, cancel=keep, actor=user, event_id=event_id, locale=locale)
        else:
            return await self._start_from_click(key, None, event_id, message, act, locale)
        outcome = await self.deps.bridge.handle(event)
        return await self._after_notice_action(key, act, outcome, message, catalogue(locale))

    async def _start_from_click(
        self,
        key: ConversationKey,
        study: str | None,
        event_id: str,
        message: dict[str, Any] | None,
        act: Action,
        locale: str | None,
    ) -> str | None:
        """Start an interview (of ``study``, else whichever fits) from a button or the studies select."""
        respondent = await self.deps.people.respondent(key.workspace, key.user)  # cached by the middleware
        async with self.deps.locks.hold(key):  # a double click must not clear the new interview's thread
            if await self.deps.bridge.current(key) is None:
                await self.deps.adapter.set_thread(key, None)  # a new interview opens its own thread
            outcome = await self.deps.bridge.handle(Start(key, respondent, study, event_id=event_id))
        return await self._after_notice_action(key, act, outcome, message, catalogue(locale))  # refusals: in the DM

    async def _after_notice_action(
        self, key: ConversationKey, act: Action, outcome: Outcome, message: dict[str, Any] | None, tr: Catalogue
    ) -> str | None:
        """Close the notice's buttons (unless the click was a duplicate or not the clicker's); what to tell."""
        if outcome.kind is OutcomeKind.DUPLICATE:
            return None
        if message and message.get("ts") and outcome.kind is not OutcomeKind.NOT_YOURS:
            await self._close_notice(key, message, action_label(tr, act))
        if not outcome.ok and outcome.message and act is not Action.NEW_INTERVIEW:
            return outcome.message
        return None

    async def _close_notice(self, key: ConversationKey, message: dict[str, Any], chosen: str) -> None:
        """Replace a notice's buttons by what was chosen, so it cannot be clicked again."""
        text = str(message.get("text") or "")
        blocks = [*text_sections(text), {"type": "context", "elements": [{"type": "mrkdwn", "text": f"→ {chosen}"}]}]
        try:
            await self.deps.adapter.calls.call(
                "chat.update",
                self.deps.adapter.client.chat_update,
                team=key.workspace,
                conversation=key.as_str(),
                channel=key.channel,
                ts=str(message["ts"]),
                text=text or chosen,
                blocks=blocks,
            )
        except Exception as error:  # cosmetic: the event was handled already
            log.info("slack could not close a notice: %s", type(error).__name__)

    # --- the "other" modal ---

    async def _open_other(
        self, body: dict[str, Any], key: ConversationKey, ref: QuestionRef, title: str, message_ts: str, tr: Catalogue
    ) -> None:
        meta = {
            "team": key.workspace,
            "channel": key.channel,
            "iid": ref.interview_id,
            "qid": ref.question_id,
            "part": ref.part,
            "ts": message_ts,
        }
        view = {
            "type": "modal",
            "callback_id": OTHER_VIEW,
            "private_metadata": json.dumps(meta),
            "title": {"type": "plain_text", "text": tr.gettext("Your answer")[:24]},
            "submit": {"type": "plain_text", "text": tr.gettext("Send")[:24]},
            "close": {"type": "plain_text", "text": tr.gettext("Cancel")[:24]},
            "blocks": [
                {
                    "type": "input",
                    "block_id": "other",
                    "label": {"type": "plain_text", "text": (title or tr.gettext("Other"))[:2000]},
                    "element": {"type": "plain_text_input", "action_id": "text", "max_length": 2000},
                }
            ],
        }
        try:
            await self.deps.adapter.client.views_open(trigger_id=body["trigger_id"], view=view)
        except Exception as error:
            log.info("slack could not open the other-answer modal: %s", type(error).__name__)
            await self.deps.adapter.ephemeral(
                key, key.channel, tr.gettext("Please type your answer as a message instead.")
            )

    async def on_other_submitted(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        """The "other" modal was submitted: the typed text answers the single-choice question."""
        value = (((view.get("state") or {}).get("values") or {}).get("other") or {}).get("text") or {}
        text = str(value.get("value") or "").strip()
        meta = json.loads(view.get("private_metadata") or "{}")
        tr = catalogue(context["locale"])
        if not text:
            await ack(response_action="errors", errors={"other": tr.gettext("Please type your answer.")})
            return
        await ack()
        try:
            await self._other_answered(body, view, meta, text, context)
        except Exception as error:  # after the ack: answered here (see plumbing.answer_failures)
            await self.deps.failures(error, body, context, None)

    async def _other_answered(
        self, body: dict[str, Any], view: dict[str, Any], meta: dict[str, Any], text: str, context: AsyncBoltContext
    ) -> None:
        user = str(body["user"]["id"])
        team = str(meta.get("team") or team_of(body))
        locale = context["locale"]
        tr = catalogue(locale)
        key = conversation_key(team, str(meta.get("channel", "")), user)
        ref = QuestionRef(str(meta.get("iid", "")), str(meta.get("qid", "")), str(meta.get("part", "")))
        question = await self._question(ref)
        outcome = await self.deps.bridge.handle(
            Answer(key, user, ref.interview_id, ref.question_id, text, event_id=f"view:{view.get('id')}", locale=locale)
        )
        if outcome.ok and question is not None:
            await self.deps.adapter.mark_answered(key, ref, question, text, None, tr)
        elif not outcome.ok and outcome.kind is not OutcomeKind.DUPLICATE:
            await self.deps.adapter.ephemeral(key, key.channel, outcome.message or stale_text(tr))
