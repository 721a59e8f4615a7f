"""Bolt listeners: DMs, clicks, the "other" modal, ``/interview`` and the App Home tab.

Usable in any ``AsyncApp`` (the bot's own, or one a team already runs)::

    adapter = register_listeners(app, bridge)

Every interaction is acknowledged first (well within Slack's 3 s) and worked on afterwards.
"""

from __future__ import annotations

import html
import json
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError

from adapters.slack.adapter import SlackAdapter, conversation_key, pointer_text
from adapters.slack.admin import ADMIN_COMMANDS, run_admin_command
from adapters.slack.assistant import greet_thread
from adapters.slack.blocks import (
    NOTICE_ACTION_PREFIX,
    STUDY_SELECT_ACTION,
    QuestionRef,
    notice_label,
    text_sections,
)
from adapters.slack.calls import error_code
from adapters.slack.clicks import Chosen, Ignore, Invalid, OpenOther, Redraw, interpret_click
from adapters.slack.home import HOME_RESUME, HOME_START, publish_home
from adapters.slack.locks import ConversationLocks
from adapters.slack.people import People
from adapters.slack.target import Target
from bot.api.models import Question
from bot.core import (
    Action,
    Answer,
    Bridge,
    CancelExit,
    Catalogue,
    ConversationKey,
    Exit,
    InboundEvent,
    Outcome,
    OutcomeKind,
    RespondentUnreachable,
    Retry,
    Start,
    UserText,
    catalogue,
    ending_label,
)

log = logging.getLogger("adapters.slack")

OTHER_VIEW = "ib_other"
#: Events the listeners handle: ``deploy/slack-manifest.yaml`` subscribes to exactly these.
EVENTS = ("app_home_opened", "app_uninstalled", "assistant_thread_started", "message.im", "tokens_revoked")
#: The slash command.
COMMAND = "/interview"
#: ``message`` subtypes that are something the respondent wrote (edits, deletions, joins… are not): a plain
#: message, one with files, and a thread reply also sent to the conversation.
ANSWER_SUBTYPES = (None, "file_share", "thread_broadcast")


def stale_text(tr: Catalogue) -> str:
    """For a click on a question that is answered or gone."""
    return tr.gettext("That question was already answered or is no longer open.")


def not_yours_text(tr: Catalogue) -> str:
    """For a click on someone else's question."""
    return tr.gettext("This question belongs to someone else's interview.")


def help_text(tr: Catalogue) -> str:
    """``/interview`` without a known subcommand."""
    return tr.gettext(
        "`/interview start [study]` starts an interview in our DM · `/interview stop` ends yours · "
        "`/interview status` shows where it stands. Admins: `/interview results|export|admin <study>`."
    )


def register_listeners(
    app: AsyncApp, bridge: Bridge, adapter: SlackAdapter | None = None, *, update_interval: float = 1.0
) -> SlackAdapter:
    """Register the interview listeners on ``app`` and the Slack adapter on ``bridge``; returns the adapter.

    ``adapter`` defaults to one using ``app.client`` and the bridge's adapter state.
    """
    if adapter is None:
        adapter = SlackAdapter(app.client, bridge.adapter_state, update_interval=update_interval)
    adapter.calls.observer = bridge.observer
    bridge.register(adapter)
    Listeners(bridge, adapter).attach(app)
    return adapter


class Listeners:
    """The listener functions, sharing the bridge, the adapter and a cache of people."""

    def __init__(self, bridge: Bridge, adapter: SlackAdapter) -> None:
        self.bridge = bridge
        self.adapter = adapter
        audience = {g for study in bridge.studies.studies for g in study.audience.slack_usergroups}
        self.people = People(adapter, tuple(sorted(audience)))
        self._locks = ConversationLocks()  # thread decisions, one at a time per conversation

    async def locale(self, team: str, user: str) -> str | None:
        """The user's Slack locale (``users.info``), else KOJI_LOCALE."""
        return (await self.people.respondent(team, user)).locale or self.bridge.config.locale

    async def tr(self, team: str, user: str) -> Catalogue:
        """The catalogue of the user's language."""
        return catalogue(await self.locale(team, user))

    def attach(self, app: AsyncApp) -> None:
        """Register every listener on ``app``."""
        app.event("message")(self.on_message)
        app.event("app_home_opened")(self.on_home_opened)
        app.event("app_uninstalled")(self.on_ignored_event)
        app.event("tokens_revoked")(self.on_ignored_event)
        app.event("assistant_thread_started")(self.on_thread_started)  # the interview starts with the first DM
        app.action(re.compile(r"^ib:"))(self.on_action)
        app.action(re.compile(r"^ib_home:"))(self.on_home_action)
        app.view(OTHER_VIEW)(self.on_other_submitted)
        app.command(COMMAND)(self.on_command)

    async def on_thread_started(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """A thread opened from the app's agent view: its title and suggested prompts (see :mod:`assistant`)."""
        team = str(body.get("team_id") or "")
        user = str((event.get("assistant_thread") or {}).get("user_id") or "")
        respondent = await self.people.respondent(team, user)
        book = self.bridge.studies  # with several studies the thread is not one study's yet
        study = book.default.name if len(book.studies) == 1 else None
        await greet_thread(self.adapter, event, team, catalogue(respondent.locale), study)

    async def on_ignored_event(self, body: dict[str, Any]) -> None:
        """Acknowledged; the next call to Slack will say the app is gone and the core ends cleanly."""
        log.info("slack event %s", (body.get("event") or {}).get("type"))

    # --- DMs ---

    async def on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """A DM to the app: goes to the user's active interview (or starts/offers one)."""
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("app_id"):
            return
        if event.get("subtype") not in ANSWER_SUBTYPES or not event.get("user"):
            return
        team = str(body.get("team_id") or event.get("team") or "")
        user, channel = str(event["user"]), str(event["channel"])
        key = conversation_key(team, channel, user)
        root = str(event.get("thread_ts") or event["ts"])
        text = html.unescape(str(event.get("text") or ""))
        respondent = await self.people.respondent(team, user)
        async with self._locks.hold(key):
            active = await self.bridge.current(key)
            current = await self.adapter.thread_of(key)
            elsewhere = active is not None and current is not None and current != root
            if active is None or current is None:  # a new interview (its first reply brings the consent note)
                await self.adapter.set_thread(key, root, introduced=active is not None)
            outcome = await self.bridge.handle(
                UserText(
                    key,
                    text,
                    respondent,
                    event_id=str(body.get("event_id") or "") or None,
                    attachments=len(event.get("files") or []),
                )
            )
        if elsewhere and outcome.kind is OutcomeKind.ACCEPTED:
            try:
                tr = catalogue(respondent.locale or self.bridge.config.locale)
                await self.adapter.post(Target(key, channel, root), pointer_text(tr))
            except Exception as error:  # a courtesy line: the message reached the interview already
                log.info("slack pointer not posted: %s", type(error).__name__)

    # --- clicks ---

    async def on_action(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """A click on a question or a notice button."""
        await ack()
        try:
            await self._on_action(body, action, respond)
        except RespondentUnreachable:
            log.info("slack click: the respondent can no longer be reached")

    async def _tell(self, respond: AsyncRespond, key: ConversationKey, text: str, thread_ts: Any) -> None:
        """Answer the clicker only (through the interaction's response_url, else chat.postEphemeral)."""
        try:
            await respond(text=text, response_type="ephemeral", replace_original=False)
        except Exception:  # no response_url (e.g. a modal) or it expired
            await self.adapter.ephemeral(key, key.channel, text, thread_ts)

    async def _on_action(self, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        team, user = _team(body), str(body["user"]["id"])
        container = body.get("container") or {}
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        key = conversation_key(team, channel, user)
        event_id = f"act:{body.get('trigger_id') or action.get('action_ts')}"
        action_id = str(action.get("action_id", ""))
        message = body.get("message")
        thread_ts = container.get("thread_ts")
        locale = await self.locale(team, user)
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
            outcome = await self.bridge.handle(
                Answer(key, user, ref.interview_id, ref.question_id, result.value, event_id=event_id, locale=locale)
            )
            if outcome.ok:
                await self.adapter.mark_answered(key, ref, question, result.value, message, tr)
            elif outcome.kind is not OutcomeKind.DUPLICATE:
                await self._tell(respond, key, outcome.message or stale_text(tr), thread_ts)
            return
        problem = await self._may_act(ref, user, tr)
        if problem is not None:
            await self._tell(respond, key, problem, thread_ts)
            return
        if isinstance(result, Redraw):
            try:
                await self.adapter.replace_question_blocks(key, ref, result.blocks, message, tr)
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
        verdict = await self.bridge.may_answer(user, ref.interview_id, ref.question_id, tr.language)
        return None if verdict.ok else (verdict.message or stale_text(tr))

    async def _question(self, ref: QuestionRef) -> Question | None:
        """The clicked question: as the adapter posted it, else the one the core has pending."""
        question = await self.adapter.stored_question(ref.interview_id, ref.question_id)
        if question is None:
            pending = await self.bridge.pending_in(ref.interview_id)
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
        else:
            return await self._start_from_click(key, None, event_id, message, act, locale)
        outcome = await self.bridge.handle(event)
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
        respondent = await self.people.respondent(key.workspace, key.user)
        async with self._locks.hold(key):  # a double click must not clear the new interview's thread
            if await self.bridge.current(key) is None:
                await self.adapter.set_thread(key, None)  # a new interview opens its own thread
            outcome = await self.bridge.handle(Start(key, respondent, study, event_id=event_id))
        return await self._after_notice_action(key, act, outcome, message, catalogue(locale))  # refusals: in the DM

    async def _after_notice_action(
        self, key: ConversationKey, act: Action, outcome: Outcome, message: dict[str, Any] | None, tr: Catalogue
    ) -> str | None:
        """Close the notice's buttons (unless the click was a duplicate or not the clicker's); what to tell."""
        if outcome.kind is OutcomeKind.DUPLICATE:
            return None
        if message and message.get("ts") and outcome.kind is not OutcomeKind.NOT_YOURS:
            await self._close_notice(key, message, notice_label(tr, act))
        if not outcome.ok and outcome.message and act is not Action.NEW_INTERVIEW:
            return outcome.message
        return None

    async def _close_notice(self, key: ConversationKey, message: dict[str, Any], chosen: str) -> None:
        """Replace a notice's buttons by what was chosen, so it cannot be clicked again."""
        text = str(message.get("text") or "")
        blocks = [*text_sections(text), {"type": "context", "elements": [{"type": "mrkdwn", "text": f"→ {chosen}"}]}]
        try:
            await self.adapter.calls.call(
                "chat.update",
                self.adapter.client.chat_update,
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
            await self.adapter.client.views_open(trigger_id=body["trigger_id"], view=view)
        except Exception as error:
            log.info("slack could not open the other-answer modal: %s", type(error).__name__)
            await self.adapter.ephemeral(key, key.channel, tr.gettext("Please type your answer as a message instead."))

    async def on_other_submitted(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The "other" modal was submitted: the typed text answers the single-choice question."""
        value = (((view.get("state") or {}).get("values") or {}).get("other") or {}).get("text") or {}
        text = str(value.get("value") or "").strip()
        meta = json.loads(view.get("private_metadata") or "{}")
        user = str(body["user"]["id"])
        team = str(meta.get("team") or _team(body))
        locale = await self.locale(team, user)
        tr = catalogue(locale)
        if not text:
            await ack(response_action="errors", errors={"other": tr.gettext("Please type your answer.")})
            return
        await ack()
        key = conversation_key(team, str(meta.get("channel", "")), user)
        ref = QuestionRef(str(meta.get("iid", "")), str(meta.get("qid", "")), str(meta.get("part", "")))
        question = await self._question(ref)
        outcome = await self.bridge.handle(
            Answer(key, user, ref.interview_id, ref.question_id, text, event_id=f"view:{view.get('id')}", locale=locale)
        )
        if outcome.ok and question is not None:
            await self.adapter.mark_answered(key, ref, question, text, None, tr)
        elif not outcome.ok and outcome.kind is not OutcomeKind.DUPLICATE:
            await self.adapter.ephemeral(key, key.channel, outcome.message or stale_text(tr))

    # --- /interview ---

    async def on_command(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """``/interview start [study] | stop | status``; for admins ``results|export|admin <study>``."""
        await ack()
        team, user = str(body.get("team_id") or ""), str(body.get("user_id") or "")
        words = str(body.get("text") or "").split()
        sub = words[0].lower() if words else "help"
        locale = await self.locale(team, user)
        tr = catalogue(locale)
        if sub in ADMIN_COMMANDS:
            await run_admin_command(words, body, respond, self.bridge, self.adapter, self.people)
            return
        if sub not in ("start", "stop", "status"):
            await respond(text=help_text(tr), response_type="ephemeral")
            return
        try:
            key = conversation_key(team, await self.people.dm_channel(team, user), user)
        except Exception as error:  # e.g. the app cannot open a DM with this user
            log.info("slack /interview: no DM channel (%s)", type(error).__name__)
            await respond(
                text=tr.gettext("I can't open a direct message with you — please message me in my Messages tab."),
                response_type="ephemeral",
            )
            return
        if sub == "status":
            await respond(text=await self._status_text(key, tr), response_type="ephemeral")
            return
        if sub == "stop":
            outcome = await self.bridge.handle(
                Exit(key, confirmed=False, actor=user, event_id=f"cmd:{body.get('trigger_id')}", locale=locale)
            )
            if outcome.ok:
                text = tr.gettext("Please confirm in our DM thread.")
            else:
                text = outcome.message or tr.gettext("Nothing to stop.")
            await respond(text=text, response_type="ephemeral")
            return
        async with self._locks.hold(key):
            if await self.bridge.current(key) is not None:
                busy = tr.gettext("You already have an interview in progress — see our DM.")
                await respond(text=busy, response_type="ephemeral")
                return
            await respond(text=tr.gettext("Starting your interview in our DM…"), response_type="ephemeral")
            await self.adapter.set_thread(key, None)
            study = words[1] if len(words) > 1 else None
            outcome = await self.bridge.handle(
                Start(
                    key, await self.people.respondent(team, user), study=study, event_id=f"cmd:{body.get('trigger_id')}"
                )
            )
        if not outcome.ok and outcome.kind is not OutcomeKind.DUPLICATE and outcome.message:
            await respond(text=outcome.message, response_type="ephemeral")

    async def _status_text(self, key: ConversationKey, tr: Catalogue) -> str:
        record = await self.bridge.status(key)
        if record is None:
            return tr.gettext("You have no interviews yet. `/interview start` begins one.")
        if record.ended:
            return tr.gettext("Your last interview is finished ({how}). Thank you!").format(
                how=ending_label(record.end_reason, tr.language)
            )
        sent = tr.ngettext("{count} message sent", "{count} messages sent", record.turns_sent).format(
            count=record.turns_sent
        )
        if record.waiting_for_reply:
            return tr.gettext("Your interview is in progress: {sent} — waiting for your reply.").format(sent=sent)
        return tr.gettext("Your interview is in progress: {sent}.").format(sent=sent)

    # --- App Home ---

    async def on_home_opened(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """Publish the Home tab: the user's interviews with Start / Resume."""
        if event.get("tab", "home") != "home":
            return
        team, user = _team(body), str(event["user"])
        await publish_home(self.adapter, self.bridge, team, user, await self.tr(team, user), _app(body))

    async def on_home_action(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Start or Resume from the Home tab."""
        await ack()
        team, user = _team(body), str(body["user"]["id"])
        try:
            key = conversation_key(team, await self.people.dm_channel(team, user), user)
            if action.get("action_id") == HOME_START:
                async with self._locks.hold(key):  # a double click starts one interview
                    if await self.bridge.current(key) is None:
                        await self.adapter.set_thread(key, None)
                        await self.bridge.handle(
                            Start(
                                key, await self.people.respondent(team, user), event_id=f"home:{body.get('trigger_id')}"
                            )
                        )
            elif action.get("action_id") == HOME_RESUME:
                await self._resume(key)
        except Exception as error:  # the DM cannot be opened, or the respondent is unreachable: log, keep the tab
            log.warning("slack home %s failed: %s", action.get("action_id"), type(error).__name__)
        await publish_home(self.adapter, self.bridge, team, user, await self.tr(team, user), _app(body))

    async def _resume(self, key: ConversationKey) -> None:
        record = await self.bridge.current(key)
        if record is None:
            return
        target = await self.adapter.target(key, locale=record.locale)
        pending = await self.bridge.pending(key)
        tr = catalogue(record.locale)
        await self.adapter.post(
            target, tr.gettext("👋 Welcome back — your interview continues here. Reply in this thread.")
        )
        if pending is not None:
            await self.adapter.show_question(key, pending)


def _app(body: dict[str, Any]) -> str | None:
    """The app's id (``api_app_id``) of an event or interaction payload."""
    return str(body["api_app_id"]) if body.get("api_app_id") else None


def _team(body: dict[str, Any]) -> str:
    team = body.get("team") or {}
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    return str(body.get("team_id") or (body.get("user") or {}).get("team_id") or "")
