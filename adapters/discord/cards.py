"""Results cards on Discord: an embed (within Discord's limits) and files as attachments."""

from __future__ import annotations

import io
from collections.abc import Sequence

import discord

from adapters.discord.components import clip
from bot.core import ResultsCard, ResultsFile

__all__ = ["MAX_FILES", "card_embed", "discord_files"]

#: Discord: at most 10 attachments per message; an embed holds 25 fields, names of 256 and values of 1,024
#: characters, a title of 256 and 6,000 characters in all.
MAX_FILES = 10


def card_embed(card: ResultsCard) -> discord.Embed:
    """A card as an embed (cut to Discord's limits, never beyond 6,000 characters)."""
    embed = discord.Embed(title=clip(card.title, 256), colour=discord.Colour.blurple())
    if card.quote:
        embed.description = clip(f"> {card.quote}", 1000)
    budget = 5000 - len(embed.title or "") - len(embed.description or "")
    for label, value in card.fields[:25]:
        name, shown = clip(label, 256), clip(value, 1024) or "—"
        budget -= len(name) + len(shown)
        if budget < 0:
            break
        embed.add_field(name=name, value=shown, inline=len(shown) < 40)
    if card.footer:
        embed.set_footer(text=clip(card.footer, 200))
    return embed


def discord_files(files: Sequence[ResultsFile]) -> list[discord.File]:
    """Files as attachments."""
    return [discord.File(io.BytesIO(f.content), filename=f.filename, description=clip(f.title, 1000)) for f in files]
