"""``/interview forget-me`` and ``/interview my-data`` on Discord: answered privately (ephemeral)."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str

from adapters.discord.interactions import locale_of
from bot.core import ConversationKey, ForgetMe, MyData, OutcomeKind, RespondentUnreachable

if TYPE_CHECKING:
    from adapters.discord.cog import InterviewCog

__all__ = ["add_privacy_commands", "forget_me", "my_data"]

log = logging.getLogger(__name__)


def add_privacy_commands(cog: InterviewCog) -> None:
    """Add ``forget-me`` and ``my-data`` to the cog's ``/interview``."""

    async def forget(interaction: discord.Interaction[Any]) -> None:
        await forget_me(cog, interaction, await cog.dm_key_of(interaction))

    async def data(interaction: discord.Interaction[Any]) -> None:
        await my_data(cog, interaction, await cog.dm_key_of(interaction))

    for name, description, callback in (
        ("forget-me", "Erase everything this bot stores about you.", forget),
        ("my-data", "Get everything this bot stores about you, as a file.", data),
    ):
        command: app_commands.Command[Any, Any, Any] = app_commands.Command(
            name=name, description=locale_str(description), callback=callback
        )
        cog.interview.add_command(command)


async def forget_me(cog: InterviewCog, interaction: discord.Interaction[Any], key: ConversationKey) -> None:
    """Ask in the DM whether to erase (Erase my data / Keep it); the answer here says where to look."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    tr = cog.tr(interaction)
    event = ForgetMe(key, actor=str(interaction.user.id), event_id=str(interaction.id), locale=locale_of(interaction))
    try:
        outcome = await cog.bridge.handle(event)
    except RespondentUnreachable:
        outcome = None
    if outcome is None:
        text = tr.gettext("I can't send you messages. Please open your DMs and try again.")
    elif outcome.kind is OutcomeKind.ACCEPTED:
        text = tr.gettext("I've asked you in our DMs to confirm — nothing is erased until you do.")
    else:
        text = outcome.message or tr.gettext("Nothing to do.")
    await interaction.followup.send(text, ephemeral=True)


async def my_data(cog: InterviewCog, interaction: discord.Interaction[Any], key: ConversationKey) -> None:
    """Everything stored about the member as a JSON file, visible to them alone."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    tr = cog.tr(interaction)
    outcome = await cog.bridge.handle(MyData(key, event_id=str(interaction.id), locale=locale_of(interaction)))
    if outcome.file is None:
        await interaction.followup.send(outcome.message or tr.gettext("Nothing to do."), ephemeral=True)
        return
    attachment = discord.File(io.BytesIO(outcome.file.content), filename=outcome.file.name)
    await interaction.followup.send(outcome.message or "", file=attachment, ephemeral=True)
    log.info("discord: my-data sent")
