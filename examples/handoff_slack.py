"""A Bolt app (your support bot) that hands a user over into a research interview with a button, and takes them
back when it ends.

Your app registers the interview listeners (``register_listeners``: the interview runs in a thread of the
user's DM with the app) next to its own. A click on "Tell our researchers" calls ``bridge.hand_over(...)`` with
the workspace, the user, the study and a little context (it becomes the respondent's metadata at the interview
service). The bridge first posts the study's consent text (I agree / No thanks) in the user's DM: nothing reaches
the interview service before they agree. ``handle.wait_ended()`` resolves when the interview is over, however it
ended, or with ``end_reason`` ``declined`` / ``expired`` when the user said no or never answered::

    SLACK_BOT_TOKEN=xoxb-... SLACK_APP_TOKEN=xapp-... .venv/bin/python examples/handoff_slack.py

The sentences here are your bot's own; the interview's come from the bridge's catalogue.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.listeners import register_listeners
from bot.app import open_bridge
from bot.config import Settings
from bot.core import Bridge, HandoffError, HandoffSummary

OFFER = "support_interview"
BUTTON = {"type": "plain_text", "text": "Tell our researchers"}
OFFER_BLOCKS = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "Got five minutes to tell our researchers how it went?"}},
    {"type": "actions", "elements": [{"type": "button", "action_id": OFFER, "style": "primary", "text": BUTTON}]},
]


class SupportApp:
    """Your Bolt app: its own listeners, the interview's, and the offer button."""

    def __init__(self, bridge: Bridge, client: AsyncWebClient, signing_secret: str, study: str) -> None:
        self.bridge = bridge
        self.study = study
        self.app = AsyncApp(client=client, signing_secret=signing_secret)
        register_listeners(self.app, bridge)  # the interview, in the user's DM with the app
        self.app.action(OFFER)(self.hand_over)
        self.tasks: set[asyncio.Task[None]] = set()
        self.taken_back: list[HandoffSummary] = []

    async def post_offer(self, channel: str) -> str:
        """Offer the interview (your bot decides when: the end of a support chat, an LLM's tool call); its ts."""
        posted = await self.app.client.chat_postMessage(
            channel=channel, text="Tell our researchers?", blocks=OFFER_BLOCKS
        )
        return str(posted["ts"])

    async def hand_over(self, ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        team, user, channel = body["team"]["id"], body["user"]["id"], body["channel"]["id"]
        try:
            handle = await self.bridge.hand_over(
                "slack", team, user, self.study, context={"came_from": "support-bot", "channel": channel}
            )
        except HandoffError as error:  # error.code: user_unreachable, already_in_interview, declined, study_closed, …
            await respond(text=f"Not right now: {error.message}", response_type="ephemeral", replace_original=False)
            return
        # handle.status: consent_pending (the consent text is in the DM), or accepted (they agreed to it before)
        await respond(
            text="Thank you! Have a look at the note below: the interview starts once you agree.", replace_original=True
        )
        task = asyncio.create_task(self.take_back(handle.wait_ended(), channel, user))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def take_back(self, ended: Any, channel: str, user: str) -> None:
        """The interview is over: the user is yours again."""
        summary: HandoffSummary = await ended
        self.taken_back.append(summary)
        if not summary.interviewed:  # declined or expired: no interview took place, and that is fine
            await self.app.client.chat_postMessage(channel=channel, text=f"No problem <@{user}>, I'm still here.")
            return
        await self.app.client.chat_postMessage(channel=channel, text=f"Welcome back <@{user}> — thanks for the chat!")


async def main() -> None:
    settings = Settings()
    assert settings.slack_bot_token is not None and settings.slack_app_token is not None, "set the Slack tokens"
    client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value())
    async with open_bridge(settings) as bridge:
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else "socket-mode"
        support = SupportApp(bridge, client, secret, os.environ.get("HANDOFF_STUDY", "default"))
        await AsyncSocketModeHandler(support.app, settings.slack_app_token.get_secret_value()).start_async()


if __name__ == "__main__":
    asyncio.run(main())
