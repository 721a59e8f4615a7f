"""Results cards in a team's Discord channel: posted as an embed (its charts attached, 10 per message), and
deleted again when the respondent it names is erased (a bot may always delete its own messages)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import discord

from adapters.discord import cards
from adapters.discord.writes import WriteBudget
from bot.core import ResultsCard, ResultsFile

__all__ = ["ResultsPosting"]

log = logging.getLogger(__name__)


class ResultsPosting:
    """Mixed into the Discord adapter (``bot.core.ports.ResultsChannel`` and ``ResultsEraser``)."""

    client: discord.Client
    budget: WriteBudget

    async def post_results(self, channel: str, card: ResultsCard, files: Sequence[ResultsFile] = ()) -> str:
        """A results card as an embed in a team's channel, its files (charts) attached, 10 per message; returns
        the card's message id."""
        target = self.client.get_partial_messageable(int(channel))
        async with self.budget.write(channel):
            embed = cards.card_embed(card)
            posted = await target.send(embed=embed, files=cards.discord_files(files[: cards.MAX_FILES]))
        for start in range(cards.MAX_FILES, len(files), cards.MAX_FILES):
            async with self.budget.write(channel):
                await target.send(files=cards.discord_files(files[start : start + cards.MAX_FILES]))
        return str(posted.id)

    async def delete_results(self, channel: str, message: str) -> bool:
        """Delete a card the bot posted (``DELETE /channels/{channel}/messages/{message}``); gone already: True."""
        try:
            async with self.budget.write(channel):
                await self.client.get_partial_messageable(int(channel)).get_partial_message(int(message)).delete()
        except discord.NotFound:
            return True  # someone deleted it before (or the channel is gone with it)
        except discord.HTTPException as error:  # no access to the channel any more, or Discord failed
            log.info("discord: a results card could not be deleted (%s %s)", error.status, error.code)
            return False
        return True
