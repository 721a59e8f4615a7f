"""A discord.py support bot that hands a member over into a research interview with a button, and takes them back.

Your bot loads the interview extension (it serves the interview in the member's DMs) and gives it the bridge it
opened. A click on "Tell our researchers" calls ``bridge.hand_over(...)`` with the member, the study and a little
context (it becomes the respondent's metadata at the interview service). The bridge first posts the study's
consent text (I agree / No thanks) in the member's DMs: nothing reaches the interview service before they agree.
``handle.wait_ended()`` resolves when the interview is over, however it ended (or with ``end_reason``
``declined`` / ``expired`` when the member said no or never answered), and the bot welcomes the member back::

    DISCORD_TOKEN=... HANDOFF_STUDY=default .venv/bin/python examples/handoff_discord.py

The sentences here are your bot's own; the interview's come from the bridge's catalogue.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import discord
from discord.ext import commands

from adapters.discord.extension import configure_endpoints
from bot.app import open_bridge
from bot.config import Settings
from bot.core import Bridge, HandoffError, HandoffSummary

OFFER = "support:interview"


class Offer(discord.ui.View):
    """The button under the bot's offer (persistent: it works after a restart too)."""

    def __init__(self, bot: SupportBot) -> None:
        super().__init__(timeout=None)
        self.bot = bot

    @discord.ui.button(label="Tell our researchers", custom_id=OFFER, style=discord.ButtonStyle.primary)
    async def hand_over(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Offer]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            handle = await self.bot.bridge.hand_over(
                "discord",
                str(interaction.guild_id),
                str(interaction.user.id),
                self.bot.study,
                context={"came_from": "support-bot", "channel": str(interaction.channel_id)},
            )
        except HandoffError as error:  # error.code: user_unreachable, already_in_interview, declined, study_closed, …
            await interaction.followup.send(f"Not right now: {error.message}", ephemeral=True)
            return
        # handle.status: consent_pending (the consent text is in the DMs), or accepted (they agreed to it before)
        await interaction.followup.send(
            "Thank you! Have a look at your DMs: the interview starts once you agree.", ephemeral=True
        )
        channel = interaction.channel
        task = asyncio.create_task(self.bot.take_back(handle.wait_ended(), channel, interaction.user.id))
        self.bot.tasks.add(task)
        task.add_done_callback(self.bot.tasks.discard)


class SupportBot(commands.Bot):
    """Your bot: its own commands, plus the interview extension and the offer button."""

    def __init__(self, bridge: Bridge, study: str) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default())
        self.bridge = bridge
        self.interview_bridge = bridge  # the extension serves the interview through this bridge
        self.study = study
        self.tasks: set[asyncio.Task[None]] = set()
        self.taken_back: list[HandoffSummary] = []

    async def setup_hook(self) -> None:
        await self.load_extension("adapters.discord")
        self.add_view(Offer(self))

    async def post_offer(self, channel_id: int) -> discord.Message:
        """Offer the interview in a channel (your bot decides when: a support thread, a command, an LLM's tool)."""
        channel = self.get_partial_messageable(channel_id)
        return await channel.send("Got five minutes to tell our researchers how it went?", view=Offer(self))

    async def take_back(self, ended: Any, channel: Any, user_id: int) -> None:
        """The interview is over: the member is yours again."""
        summary: HandoffSummary = await ended
        self.taken_back.append(summary)
        if not summary.interviewed:  # declined or expired: no interview took place, and that is fine
            await channel.send(f"No problem <@{user_id}>, I'm still here if you need me.")
            return
        await channel.send(f"Welcome back <@{user_id}> — thanks for the {summary.turns} answers!")


async def main() -> None:
    settings = Settings()
    configure_endpoints(settings)
    async with open_bridge(settings) as bridge:
        bot = SupportBot(bridge, os.environ.get("HANDOFF_STUDY", "default"))
        assert settings.discord_token is not None, "set DISCORD_TOKEN"
        async with bot:
            await bot.start(settings.discord_token.get_secret_value())


if __name__ == "__main__":
    asyncio.run(main())
