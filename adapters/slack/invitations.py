"""Slack invitations: the DM with the study's consent text and Start now / Not now / Don't ask me again, sent by
the running bot from the invitation desk's sweep, paced through the shared budget under one campaign key.

Every Web API call of a campaign waits in the workspace's budget as one conversation (``campaign``) among the
running interviews', so a campaign of thousands takes its fair share and never starves an interview.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.adapter import SlackAdapter, conversation_key
from adapters.slack.audience import CAMPAIGN_CONVERSATION
from adapters.slack.calls import UNREACHABLE_ERRORS, error_code
from adapters.slack.plumbing import team_of
from adapters.slack.shared import ListenerDeps
from bot.core import Catalogue, Delivery, Invitation, InvitationDesk, InvitationState, Start, Study, catalogue

__all__ = ["INVITE_ACTIONS", "SlackInvitations", "invitation_blocks"]

log = logging.getLogger("adapters.slack")

START, LATER, NEVER = "ib_invite:start", "ib_invite:later", "ib_invite:never"
INVITE_ACTIONS = (START, LATER, NEVER)
SWEEP_EVERY = 5.0  # seconds between sweeps when nothing was due
SWEEP_LIMIT = 50


def invitation_text(study: Study, tr: Catalogue, reminder: int) -> str:
    """The message's first line (also the notification text)."""
    if reminder:
        return tr.gettext("A reminder: would you take part in the interview “{study}”?").format(study=study.name)
    return tr.gettext("You're invited to a short interview: “{study}”.").format(study=study.name)


def message_marker(reminder: int) -> str:
    """The buttons' ``block_id``: which message of the campaign this is (``ib_invite`` the invitation, ``ib_invite:rN``
    reminder N), so a restarted sender finds in the DM's history whether it went out already."""
    return "ib_invite" if reminder == 0 else f"ib_invite:r{reminder}"


def invitation_blocks(study: Study, tr: Catalogue, reminder: int) -> list[dict[str, Any]]:
    """The invitation: what it is, the consent text, and the three buttons (their values carry the study, their
    block the message's number)."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{invitation_text(study, tr, reminder)}*"}},
    ]
    if study.consent:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": study.consent[:2900]}})
    buttons = [
        (START, tr.gettext("Start now"), "primary"),
        (LATER, tr.gettext("Not now"), None),
        (NEVER, tr.gettext("Don't ask me again"), "danger"),
    ]
    elements = []
    for action_id, label, style in buttons:
        button: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": label},
            "value": study.id,
        }
        if style:
            button["style"] = style
        elements.append(button)
    blocks.append({"type": "actions", "block_id": message_marker(reminder), "elements": elements})
    return blocks


class SlackInvitations:
    """The Slack side of the invitation desk: sending (the sender port), the buttons, and the sweep loop."""

    def __init__(self, desk: InvitationDesk, adapter: SlackAdapter | None = None) -> None:
        self.desk = desk
        self._adapter = adapter
        self._task: asyncio.Task[None] | None = None
        self._poster: AsyncWebClient | None = None

    @property
    def adapter(self) -> SlackAdapter:
        """The adapter whose client and budget the invitations use (set by :meth:`attach`)."""
        if self._adapter is None:
            raise RuntimeError("attach() the invitations to the app first")
        return self._adapter

    def poster(self) -> AsyncWebClient:
        """The adapter's client without its retry of broken connections, for the posts: a post whose answer was lost
        may have reached the DM, so it is not sent again blindly (the desk checks the DM after the lease)."""
        if self._poster is None:
            client = self.adapter.client
            handlers = [h for h in client.retry_handlers if not isinstance(h, AsyncConnectionErrorRetryHandler)]
            self._poster = AsyncWebClient(
                token=client.token, base_url=client.base_url, session=client.session, retry_handlers=handlers
            )
        return self._poster

    async def _turn(self, team: str, method: str) -> None:
        await self.adapter.calls.budget.acquire(team, method, CAMPAIGN_CONVERSATION)

    async def _user(self, invitation: Invitation) -> dict[str, Any]:
        await self._turn(invitation.workspace, "users.info")
        response = await self.adapter.client.users_info(user=invitation.user_id, include_locale=True)
        return dict(response["user"])

    async def time_zone(self, invitation: Invitation) -> str | None:
        """``tz`` from ``users.info`` (None if Slack will not say)."""
        try:
            return str((await self._user(invitation)).get("tz") or "") or None
        except SlackApiError as error:
            log.info("slack users.info for a reminder failed: %s", error_code(error))
            return None

    async def already_sent(self, invitation: Invitation, study: Study, *, reminder: int) -> bool:
        """Whether the DM's latest messages hold this study's invitation or reminder number ``reminder``
        (``conversations.history``, Tier 3). A DM that cannot be opened holds nothing; any other failure raises:
        not knowing is no reason to send it twice."""
        team = invitation.workspace
        try:
            await self._turn(team, "conversations.open")
            opened = await self.adapter.client.conversations_open(users=invitation.user_id)
            await self._turn(team, "conversations.history")
            history = await self.adapter.client.conversations_history(channel=str(opened["channel"]["id"]), limit=20)
        except SlackApiError as error:
            code = error_code(error)
            if code in UNREACHABLE_ERRORS or code in ("cannot_dm_bot", "user_disabled"):
                return False  # nothing can be in it: sending will find the DM undeliverable
            log.info("slack: cannot look for an earlier invitation (%s)", code)
            raise
        for message in history.get("messages") or []:
            for block in message.get("blocks") or []:
                if block.get("block_id") == message_marker(reminder) and any(
                    element.get("value") == study.id for element in block.get("elements") or []
                ):
                    return True
        return False

    async def send_invitation(self, invitation: Invitation, study: Study, *, reminder: int) -> Delivery:
        """Open the DM and post the invitation (or reminder); DMs that cannot be opened are undeliverable."""
        team = invitation.workspace
        try:
            user = await self._user(invitation)
            if user.get("deleted") or user.get("is_bot"):
                return Delivery.UNDELIVERABLE
            tr = catalogue(user.get("locale") or study.locale)
            await self._turn(team, "conversations.open")
            opened = await self.adapter.client.conversations_open(users=invitation.user_id)
            channel = str(opened["channel"]["id"])
            await self._turn(team, "chat.postMessage")
            await self.poster().chat_postMessage(
                channel=channel,
                text=invitation_text(study, tr, reminder),
                blocks=invitation_blocks(study, tr, reminder),
            )
        except SlackApiError as error:
            code = error_code(error)
            if code in UNREACHABLE_ERRORS or code in ("cannot_dm_bot", "user_disabled"):
                return Delivery.UNDELIVERABLE
            log.warning("slack invitation not sent: %s", code)
            return Delivery.FAILED
        except (aiohttp.ClientError, TimeoutError) as error:  # maybe sent: the desk looks in the DM after the lease
            log.warning("slack invitation's answer lost: %s", type(error).__name__)
            return Delivery.FAILED
        return Delivery.SENT

    # --- the loop in the running bot ---

    def start(self) -> None:
        """Begin sweeping (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="slack-invitations")

    async def stop(self) -> None:
        """Stop sweeping; whatever was claimed is in storage already."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                report = await self.desk.sweep(self, "slack", limit=SWEEP_LIMIT)
                busy = report.invited + report.reminded + report.undeliverable + report.failed
            except Exception as error:  # the store or Slack is down: try again later, never crash the bot
                log.warning("invitation sweep failed: %s", type(error).__name__)
                busy = 0
            if not busy:
                await asyncio.sleep(SWEEP_EVERY)

    # --- the buttons ---

    def attach(self, app: AsyncApp, deps: ListenerDeps) -> None:
        """Register the three buttons (and use the listeners' adapter)."""
        self._adapter = deps.adapter
        deps.desk = self.desk

        async def on_click(
            ack: AsyncAck,
            body: dict[str, Any],
            action: dict[str, Any],
            respond: AsyncRespond,
        ) -> None:
            await ack()
            await self.on_click(deps, body, action, respond)

        for action_id in INVITE_ACTIONS:
            app.action(action_id)(on_click)

    async def on_click(
        self,
        deps: ListenerDeps,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
    ) -> None:
        """Start now (through the study's consent step), Not now, or Don't ask me again."""
        team, user = team_of(body), str(body["user"]["id"])
        study_id = str(action.get("value") or "")
        respondent = await deps.people.respondent(team, user)
        tr = catalogue(respondent.locale)
        chosen = action.get("action_id")
        if chosen == NEVER:
            await self.desk.opt_out("slack", team, user)
            text = tr.gettext("Understood — we won't invite you to interviews again. `/interview opt-in` undoes this.")
            await respond(text=text, replace_original=True)
            return
        if chosen == LATER:
            text = tr.gettext("No problem. We may remind you once or twice; “Don't ask me again” stops that.")
            await respond(text=text, replace_original=False, response_type="ephemeral")
            return
        channel = await deps.people.dm_channel(team, user)
        key = conversation_key(team, channel, user)
        await respond(text=tr.gettext("Starting your interview…"), replace_original=True)
        async with deps.locks.hold(key):
            if await deps.bridge.current(key) is None:
                await deps.adapter.set_thread(key, None)
                outcome = await deps.bridge.handle(
                    Start(key, respondent, study=study_id or None, event_id=f"invite:{body.get('trigger_id')}")
                )
                if outcome.ok:
                    await self.desk.answer(study_id, "slack", team, user, InvitationState.STARTED)
                elif outcome.message:
                    await respond(text=outcome.message, response_type="ephemeral", replace_original=False)
