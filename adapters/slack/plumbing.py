"""Bolt plumbing shared by every listener: who is acting and where (a middleware), and one error hook.

* :class:`ConversationContext` is listener middleware: before a listener runs it puts into Bolt's ``context``
  the ``respondent`` (a :class:`~bot.core.RespondentInfo` from ``users.info``, cached per process), their
  ``locale`` (Slack's, else ``KOJI_LOCALE``) and, where the payload names the DM, the ``conversation`` key.
  Listeners read them instead of working them out each on their own.
* :func:`answer_failures` registers ``@app.error``: a listener that fails is logged (type only: no message text)
  and the person gets a plain sentence in their language instead of silence — through the interaction's
  ``response_url`` where there is one, else as an ephemeral message in the conversation.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncRespond

from adapters.slack.adapter import conversation_key
from bot.core import ConversationKey, RespondentInfo, catalogue

if TYPE_CHECKING:
    from adapters.slack.adapter import SlackAdapter
    from adapters.slack.people import People

__all__ = ["ConversationContext", "FailureAnswer", "answer_failures", "app_of", "team_of", "user_of"]

log = logging.getLogger("adapters.slack")

#: Seconds the middleware waits for ``users.info`` before going on with the bare user id (Slack wants an ack
#: within 3 s, and the listener acks after the middleware).
LOOKUP_WITHIN = 1.0


def team_of(body: dict[str, Any]) -> str:
    """The workspace (team id) of an event, interaction or command payload."""
    team = body.get("team") or {}
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    return str(body.get("team_id") or (body.get("user") or {}).get("team_id") or "")


def app_of(body: dict[str, Any]) -> str | None:
    """The app's id (``api_app_id``) of an event or interaction payload."""
    return str(body["api_app_id"]) if body.get("api_app_id") else None


def user_of(body: dict[str, Any]) -> str | None:
    """The person acting: the event's user, the interaction's user, or the command's user."""
    event = body.get("event") or {}
    if body.get("type") == "event_callback":
        if event.get("bot_id") or event.get("app_id"):
            return None  # the app's own messages, other bots
        user = event.get("user") or (event.get("assistant_thread") or {}).get("user_id")
        return str(user) if isinstance(user, str) and user else None
    user = body.get("user")
    if isinstance(user, dict) and user.get("id"):
        return str(user["id"])
    return str(body["user_id"]) if body.get("user_id") else None


def _dm_channel_of(body: dict[str, Any]) -> str | None:
    """The DM channel a payload names, where it names one (a command's channel is wherever it was typed)."""
    event = body.get("event") or {}
    if body.get("type") == "event_callback":
        return str(event["channel"]) if event.get("channel_type") == "im" and event.get("channel") else None
    if body.get("type") == "block_actions":
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        return str(channel) if channel else None
    if body.get("type") == "view_submission":
        try:
            meta = json.loads((body.get("view") or {}).get("private_metadata") or "{}")
        except ValueError:
            return None
        return str(meta["channel"]) if isinstance(meta, dict) and meta.get("channel") else None
    return None


class ConversationContext:
    """Listener middleware: ``context["respondent"]``, ``context["locale"]`` and ``context["conversation"]``."""

    def __init__(self, people: People, default_locale: str | None) -> None:
        self._people = people
        self._default_locale = default_locale

    async def __call__(
        self, context: AsyncBoltContext, body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> None:
        """Fill the context, then run the listener."""
        team, user = team_of(body), user_of(body)
        context["locale"] = self._default_locale
        if user is not None:
            respondent = await self._respondent(team, user)
            context["respondent"] = respondent
            context["locale"] = respondent.locale or self._default_locale
            channel = _dm_channel_of(body)
            if channel is not None:
                context["conversation"] = conversation_key(team, channel, user)
        await next()

    async def _respondent(self, team: str, user: str) -> RespondentInfo:
        try:
            return await asyncio.wait_for(self._people.respondent(team, user), LOOKUP_WITHIN)
        except TimeoutError:  # slow users.info: the id is enough now; the next event asks again
            log.info("slack users.info slow: going on without the profile")
            return RespondentInfo(external_id=user, metadata={"slack_team": team} if team else {})


class FailureAnswer:
    """Turns a listener's failure into a plain sentence for the person (and one log line, without text)."""

    def __init__(self, adapter: SlackAdapter, default_locale: str | None) -> None:
        self._adapter = adapter
        self._default_locale = default_locale

    async def __call__(self, error: Exception, body: dict[str, Any], context: AsyncBoltContext, respond: Any) -> None:
        """Log ``error`` and tell the person, through ``respond`` where it can, else ephemerally in the DM."""
        log.error("slack listener failed: %s", type(error).__name__, exc_info=error)
        locale = context.get("locale") or self._default_locale
        text = catalogue(locale).gettext("Something went wrong on my side. Please try again in a moment.")
        if await _respond(respond, text):
            return
        key: ConversationKey | None = context.get("conversation")
        if key is not None:
            event = body.get("event") or {}
            thread_ts = event.get("thread_ts") or event.get("ts") or (body.get("container") or {}).get("thread_ts")
            await self._adapter.ephemeral(key, key.channel, text, thread_ts)


def answer_failures(app: AsyncApp, answer: FailureAnswer) -> None:
    """Register ``answer`` as ``@app.error``: a failed listener becomes a plain answer to the person.

    Listeners that ``ack()`` first and then work also call ``answer`` themselves for what fails after the ack:
    Bolt (1.2x, async) resets an interaction's acknowledgement when its listener raises within its 10 ms poll
    after ``ack()``, and Slack would then see no answer at all.
    """
    app.error(answer)


async def _respond(respond: AsyncRespond | None, text: str) -> bool:
    """Answer through the interaction's ``response_url``; False where there is none (events) or it failed."""
    if respond is None or not getattr(respond, "response_url", None):
        return False
    try:
        await respond(text=text, response_type="ephemeral", replace_original=False)
    except Exception as error:  # expired response_url: fall back to an ephemeral message
        log.info("slack could not answer through response_url: %s", type(error).__name__)
        return False
    return True
