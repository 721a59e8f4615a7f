"""Bolt listeners for ``/interview start|stop|status|my-data|forget-me|opt-in`` (and the admins' commands) and the
App Home tab (Start / Resume)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond

from adapters.slack.adapter import conversation_key
from adapters.slack.admin import ADMIN_COMMANDS, run_admin_command
from adapters.slack.campaign import run_invite_command
from adapters.slack.home import HOME_RESUME, HOME_START, publish_home
from adapters.slack.plumbing import app_of, team_of
from adapters.slack.privacy import PRIVACY_COMMANDS, privacy_command
from adapters.slack.shared import ListenerDeps
from bot.core import Catalogue, ConversationKey, Exit, OutcomeKind, Start, catalogue, ending_label

__all__ = ["COMMAND", "CommandListeners", "help_text"]

log = logging.getLogger("adapters.slack")

#: The slash command.
COMMAND = "/interview"


def help_text(tr: Catalogue) -> str:
    """``/interview`` without a known subcommand."""
    return tr.gettext(
        "`/interview start [study]` starts an interview in our DM · `/interview stop` ends yours · "
        "`/interview status` shows where it stands · `/interview my-data` sends you what I store about you · "
        "`/interview forget-me` erases it. Admins: `/interview results|export|admin|invite <study>`."
    )


class CommandListeners:
    """The slash command and the Home tab."""

    def __init__(self, deps: ListenerDeps) -> None:
        self.deps = deps

    async def on_command(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        """``/interview start [study] | stop | status``; for admins ``results|export|admin|invite <study>``."""
        await ack()
        try:
            await self._on_command(body, respond, context)
        except Exception as error:  # after the ack: answered here (see plumbing.answer_failures)
            await self.deps.failures(error, body, context, respond)

    async def _on_command(self, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext) -> None:
        team, user = str(body.get("team_id") or ""), str(body.get("user_id") or "")
        words = str(body.get("text") or "").split()
        sub = words[0].lower() if words else "help"
        locale = context["locale"]
        tr = catalogue(locale)
        if sub in ADMIN_COMMANDS:
            await run_admin_command(words, body, respond, self.deps.bridge, self.deps.adapter, self.deps.people)
            return
        if sub == "invite":
            await run_invite_command(words[1:], body, respond, self.deps)
            return
        if sub == "opt-in":
            await respond(text=await self._opt_in(team, user, tr), response_type="ephemeral")
            return
        if sub in PRIVACY_COMMANDS:
            await privacy_command(self.deps, sub, team, user, locale, respond)
            return
        if sub not in ("start", "stop", "status"):
            await respond(text=help_text(tr), response_type="ephemeral")
            return
        try:
            key = conversation_key(team, await self.deps.people.dm_channel(team, user), user)
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
            outcome = await self.deps.bridge.handle(
                Exit(key, confirmed=False, actor=user, event_id=f"cmd:{body.get('trigger_id')}", locale=locale)
            )
            if outcome.ok:
                text = tr.gettext("Please confirm in our DM thread.")
            else:
                text = outcome.message or tr.gettext("Nothing to stop.")
            await respond(text=text, response_type="ephemeral")
            return
        async with self.deps.locks.hold(key):
            if await self.deps.bridge.current(key) is not None:
                busy = tr.gettext("You already have an interview in progress — see our DM.")
                await respond(text=busy, response_type="ephemeral")
                return
            await respond(text=tr.gettext("Starting your interview in our DM…"), response_type="ephemeral")
            await self.deps.adapter.set_thread(key, None)
            study = words[1] if len(words) > 1 else None
            outcome = await self.deps.bridge.handle(
                Start(key, context["respondent"], study=study, event_id=f"cmd:{body.get('trigger_id')}")
            )
        if not outcome.ok and outcome.kind is not OutcomeKind.DUPLICATE and outcome.message:
            await respond(text=outcome.message, response_type="ephemeral")

    async def _opt_in(self, team: str, user: str, tr: Catalogue) -> str:
        """``/interview opt-in``: take back "Don't ask me again"."""
        desk = self.deps.desk
        if desk is not None and await desk.opt_in("slack", team, user):
            return tr.gettext("Done — later invitations to interviews may reach you again.")
        return tr.gettext("You had not opted out of invitations; nothing changed.")

    async def _status_text(self, key: ConversationKey, tr: Catalogue) -> str:
        record = await self.deps.bridge.status(key)
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

    async def on_home_opened(self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
        """Publish the Home tab: the user's interviews with Start / Resume."""
        if event.get("tab", "home") != "home":
            return
        team, user = team_of(body), str(event["user"])
        tr = catalogue(context["locale"])
        await publish_home(self.deps.adapter, self.deps.bridge, team, user, tr, app_of(body))

    async def on_home_action(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        """Start or Resume from the Home tab."""
        await ack()
        team, user = team_of(body), str(body["user"]["id"])
        try:
            key = conversation_key(team, await self.deps.people.dm_channel(team, user), user)
            if action.get("action_id") == HOME_START:
                async with self.deps.locks.hold(key):  # a double click starts one interview
                    if await self.deps.bridge.current(key) is None:
                        await self.deps.adapter.set_thread(key, None)
                        await self.deps.bridge.handle(
                            Start(key, context["respondent"], event_id=f"home:{body.get('trigger_id')}")
                        )
            elif action.get("action_id") == HOME_RESUME:
                await self._resume(key)
        except Exception as error:  # the DM cannot be opened, or the respondent is unreachable: log, keep the tab
            log.warning("slack home %s failed: %s", action.get("action_id"), type(error).__name__)
        try:
            tr = catalogue(context["locale"])
            await publish_home(self.deps.adapter, self.deps.bridge, team, user, tr, app_of(body))
        except Exception as error:  # after the ack: answered here (see plumbing.answer_failures)
            await self.deps.failures(error, body, context, None)

    async def _resume(self, key: ConversationKey) -> None:
        record = await self.deps.bridge.current(key)
        if record is None:
            return
        target = await self.deps.adapter.target(key, locale=record.locale)
        pending = await self.deps.bridge.pending(key)
        tr = catalogue(record.locale)
        await self.deps.adapter.post(
            target, tr.gettext("👋 Welcome back — your interview continues here. Reply in this thread.")
        )
        if pending is not None:
            await self.deps.adapter.show_question(key, pending)
