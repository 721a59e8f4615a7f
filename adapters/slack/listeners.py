"""Bolt listeners: DMs, clicks, the "other" modal, ``/interview`` and the App Home tab.

Usable in any ``AsyncApp`` (the bot's own, or one a team already runs)::

    adapter = register_listeners(app, bridge)

Every interaction is acknowledged first (well within Slack's 3 s) and worked on afterwards, except a DM: it is
acknowledged once the bridge has stored it (:meth:`DirectMessages.store_message`, within :data:`ACK_WITHIN`
seconds), so a process killed right after the acknowledgement loses nothing, and one killed before it gets the
event again from Slack's retry (dropped as a duplicate wherever it was already stored). Each listener runs
behind :class:`~adapters.slack.plumbing.ConversationContext` (who is acting, in which language and
conversation: ``context["respondent"]``, ``context["locale"]``, ``context["conversation"]``), and a listener
that fails becomes a plain answer to the person (``@app.error``, :func:`~adapters.slack.plumbing.answer_failures`).
The listeners themselves live by concern: DMs here, clicks in :mod:`.click_listeners`, the command and the Home
tab in :mod:`.command_listeners`.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from adapters.slack.adapter import SlackAdapter
from adapters.slack.assistant import greet_thread
from adapters.slack.click_listeners import OTHER_VIEW, ClickListeners
from adapters.slack.command_listeners import COMMAND, CommandListeners
from adapters.slack.invitations import SlackInvitations
from adapters.slack.people import People
from adapters.slack.plumbing import ConversationContext, FailureAnswer, answer_failures
from adapters.slack.shared import ListenerDeps
from adapters.slack.target import Target
from adapters.slack.wording import pointer_text
from bot.core import Bridge, ConversationKey, OutcomeKind, RespondentInfo, UserText, catalogue

__all__ = ["ANSWER_SUBTYPES", "COMMAND", "EVENTS", "OTHER_VIEW", "register_listeners"]

log = logging.getLogger("adapters.slack")

#: Events the listeners handle: ``deploy/slack-manifest.yaml`` subscribes to exactly these.
EVENTS = ("app_home_opened", "app_uninstalled", "assistant_thread_started", "message.im", "tokens_revoked")
#: ``message`` subtypes that are something the respondent wrote (edits, deletions, joins… are not): a plain
#: message, one with files, and a thread reply also sent to the conversation.
ANSWER_SUBTYPES = (None, "file_share", "thread_broadcast")
#: Seconds a DM's acknowledgement waits for the bridge to store it (Slack wants one within 3 s). Storing takes
#: milliseconds; starting an interview also shows its greeting, and that may finish after the acknowledgement.
ACK_WITHIN = 1.5


def register_listeners(
    app: AsyncApp,
    bridge: Bridge,
    adapter: SlackAdapter | None = None,
    *,
    update_interval: float = 1.0,
    answer_errors: bool = True,
    invitations: SlackInvitations | None = None,
) -> SlackAdapter:
    """Register the interview listeners on ``app`` and the Slack adapter on ``bridge``; returns the adapter.

    ``adapter`` defaults to one using ``app.client`` and the bridge's adapter state. ``answer_errors``
    registers ``@app.error`` (a failed listener becomes a plain answer to the person); a team whose own app
    has an error handler of its own passes False.
    """
    if adapter is None:
        adapter = SlackAdapter(app.client, bridge.adapter_state, update_interval=update_interval)
    adapter.calls.observer = bridge.observer
    bridge.register(adapter)
    audience = {g for study in bridge.studies.studies for g in study.audience.slack_usergroups}
    people = People(adapter, tuple(sorted(audience)))
    deps = ListenerDeps(bridge, adapter, people, FailureAnswer(adapter, bridge.config.locale))
    DirectMessages(deps).attach(app, ConversationContext(deps.people, bridge.config.locale))
    if invitations is not None:  # campaigns: the invitation buttons, and the sender uses this adapter
        invitations.attach(app, deps)
    if answer_errors:
        answer_failures(app, deps.failures)
    return adapter


class DirectMessages:
    """DMs to the app, the agent view's new threads, and the events only acknowledged; wires every listener."""

    def __init__(self, deps: ListenerDeps) -> None:
        self.deps = deps

    def attach(self, app: AsyncApp, context: ConversationContext) -> None:
        """Register every listener on ``app``, each behind the ``context`` middleware."""
        clicks, commands = ClickListeners(self.deps), CommandListeners(self.deps)
        mw = [context]
        # Bolt acknowledges an event when its listener starts, after the listener's middleware: the DM is stored
        # in a middleware, so it is stored before Slack hears the acknowledgement
        app.event("message", middleware=[context, self.store_message])(self.after_stored)
        app.event("app_home_opened", middleware=mw)(commands.on_home_opened)
        app.event("app_uninstalled")(self.on_ignored_event)
        app.event("tokens_revoked")(self.on_ignored_event)
        app.event("assistant_thread_started", middleware=mw)(self.on_thread_started)  # the first DM starts it
        app.action(re.compile(r"^ib:"), middleware=mw)(clicks.on_action)
        app.action(re.compile(r"^ib_home:"), middleware=mw)(commands.on_home_action)
        app.view(OTHER_VIEW, middleware=mw)(clicks.on_other_submitted)
        app.command(COMMAND, middleware=mw)(commands.on_command)

    async def on_thread_started(self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
        """A thread opened from the app's agent view: its title and suggested prompts (see :mod:`assistant`)."""
        team = str(body.get("team_id") or "")
        book = self.deps.bridge.studies  # with several studies the thread is not one study's yet
        study = book.default.name if len(book.studies) == 1 else None
        await greet_thread(self.deps.adapter, event, team, catalogue(context["locale"]), study)

    async def on_ignored_event(self, body: dict[str, Any]) -> None:
        """Acknowledged; the next call to Slack will say the app is gone and the core ends cleanly."""
        log.info("slack event %s", (body.get("event") or {}).get("type"))

    async def store_message(
        self,
        event: dict[str, Any],
        body: dict[str, Any],
        context: AsyncBoltContext,
        next: Callable[[], Awaitable[None]],
    ) -> None:
        """A DM to the app goes to the user's active interview (or starts/offers one), before the acknowledgement.

        The bridge stores the message and returns (the turn runs in the background); then the listener runs
        (:meth:`after_stored`) and Slack gets its acknowledgement. What takes longer (starting an interview shows
        its greeting first) is acknowledged after :data:`ACK_WITHIN` seconds and finished by the listener.
        """
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("app_id"):
            return await next()
        key: ConversationKey | None = context.get("conversation")
        if event.get("subtype") not in ANSWER_SUBTYPES or key is None:
            return await next()
        handling = asyncio.ensure_future(self._hand_over(key, event, body, context))
        await asyncio.wait({handling}, timeout=ACK_WITHIN)
        if handling.done() and handling.exception() is not None:  # not stored: no acknowledgement, Slack retries
            raise RuntimeError("the DM could not be handed to the bridge") from handling.exception()
        context["handling"] = handling
        await next()

    async def _hand_over(
        self, key: ConversationKey, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> Target | None:
        """Give the DM to the bridge; returns where to point the respondent when it was written outside the
        interview's thread."""
        respondent: RespondentInfo = context["respondent"]
        root = str(event.get("thread_ts") or event["ts"])
        text = html.unescape(str(event.get("text") or ""))
        bridge, adapter = self.deps.bridge, self.deps.adapter
        async with self.deps.locks.hold(key):
            active = await bridge.current(key)
            current = await adapter.thread_of(key)
            elsewhere = active is not None and current is not None and current != root
            if active is None or current is None:  # a new interview (its consent text comes first, in this thread)
                await adapter.set_thread(key, root)
            outcome = await bridge.handle(
                UserText(
                    key,
                    text,
                    respondent,
                    event_id=str(body.get("event_id") or "") or None,
                    attachments=len(event.get("files") or []),
                )
            )
        return Target(key, key.channel, root) if elsewhere and outcome.kind is OutcomeKind.ACCEPTED else None

    async def after_stored(self, context: AsyncBoltContext) -> None:
        """After the acknowledgement: the handling finishes; a message written outside the interview's thread
        gets a pointer to it."""
        handling: asyncio.Future[Target | None] | None = context.get("handling")
        target = await handling if handling is not None else None
        if target is None:
            return
        try:
            tr = catalogue(context["locale"])
            await self.deps.adapter.post(target, pointer_text(tr))
        except Exception as error:  # a courtesy line: the message reached the interview already
            log.info("slack pointer not posted: %s", type(error).__name__)
