"""Results on Discord: a card as an embed with its charts as attachments, and the admin commands
``/interview results|export|admin [study]`` (Manage Server, or a role named in ``admins.discord_roles``).

Admins get everything privately (ephemeral follow-ups); the results channel of a study gets each card.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands

from adapters.discord.audience import Audiences
from adapters.discord.cards import MAX_FILES, card_embed, discord_files
from adapters.discord.components import clip
from adapters.discord.interactions import locale_of
from bot.core import AdminActor, StudyState

if TYPE_CHECKING:
    from adapters.discord.cog import InterviewCog
    from bot.core import Bridge

__all__ = ["add_study_commands", "admin_actor", "admin_commands", "study_choices"]

_ACTIONS = {"pause": StudyState.PAUSED, "resume": StudyState.OPEN, "close": StudyState.CLOSED}


def admin_actor(interaction: discord.Interaction[Any]) -> AdminActor:
    """Who runs an admin command: their roles and whether they may manage the server."""
    roles = frozenset(str(role.id) for role in getattr(interaction.user, "roles", []))
    permissions = interaction.permissions
    manages = interaction.guild_id is not None and bool(permissions and permissions.manage_guild)
    return AdminActor("discord", str(interaction.user.id), roles, manages, locale_of(interaction))


async def study_choices(bridge: Bridge, current: str, *, open_only: bool) -> list[app_commands.Choice[str]]:
    """Studies whose id or name contains ``current`` (25 at most, Discord's limit); ``open_only``: open ones."""
    typed = current.strip().lower()
    choices = []
    for study in bridge.studies.studies:
        if typed not in study.id and typed not in study.name.lower():
            continue
        if open_only and (await bridge.gate.state(study))[0] is not StudyState.OPEN:
            continue
        choices.append(app_commands.Choice(name=clip(f"{study.name} ({study.id})", 100), value=study.id))
    return choices[:25]


def add_study_commands(cog: InterviewCog) -> Audiences:
    """Add the admin subcommands to the cog's ``/interview``; the lookup of DM writers' guilds and roles."""
    for command in admin_commands(cog):
        cog.interview.add_command(command)

    async def any_study(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return await study_choices(cog.bridge, current, open_only=False)

    cog.post_button.autocomplete("study")(any_study)  # a moderator's Start button names its study
    return Audiences(cog.bot, cog.bridge.studies)


def admin_commands(cog: InterviewCog) -> list[app_commands.Command[Any, Any, Any]]:
    """The admin subcommands of ``/interview``, bound to ``cog``'s bridge."""
    desk = cog.bridge.desk

    async def allowed(interaction: discord.Interaction[Any], study: str | None) -> tuple[AdminActor, Any] | None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        actor = admin_actor(interaction)
        tr = desk.translations(actor)
        if not desk.may_administer(actor):
            await interaction.followup.send(tr.gettext("Only the study's admins can do that."), ephemeral=True)
            return None
        found = desk.find(study, tr)
        if isinstance(found, str):
            await interaction.followup.send(found, ephemeral=True)
            return None
        return actor, found

    @app_commands.describe(study="The study (optional when there is only one).")
    async def results(interaction: discord.Interaction[Any], study: str | None = None) -> None:
        """Counts, themes and one chart per structured question (admins)."""
        checked = await allowed(interaction, study)
        if checked is None:
            return
        actor, found = checked
        digest = await desk.digest(found, desk.translations(actor))
        if digest.card is None:
            await interaction.followup.send(digest.withheld or "", ephemeral=True)
            return
        charts = list(digest.charts)
        first, rest = charts[:MAX_FILES], charts[MAX_FILES:]
        await interaction.followup.send(embed=card_embed(digest.card), files=discord_files(first), ephemeral=True)
        for start in range(0, len(rest), MAX_FILES):
            await interaction.followup.send(files=discord_files(rest[start : start + MAX_FILES]), ephemeral=True)

    @app_commands.describe(study="The study (optional when there is only one).")
    async def export(interaction: discord.Interaction[Any], study: str | None = None) -> None:
        """The study's interviews as CSV, privately (admins)."""
        checked = await allowed(interaction, study)
        if checked is None:
            return
        actor, found = checked
        tr = desk.translations(actor)
        file = await desk.export(found)
        text = tr.gettext("The interviews of “{study}” as CSV (respondents pseudonymous).").format(study=found.name)
        await interaction.followup.send(text, files=discord_files([file]), ephemeral=True)

    @app_commands.describe(study="The study (optional when there is only one).", action="Pause, resume or close it.")
    async def admin(
        interaction: discord.Interaction[Any],
        study: str | None = None,
        action: Literal["pause", "resume", "close"] | None = None,
    ) -> None:
        """Counts of the study; pause, resume or close it (admins)."""
        checked = await allowed(interaction, study)
        if checked is None:
            return
        actor, found = checked
        tr = desk.translations(actor)
        said = await desk.set_state(found, _ACTIONS[action], tr) if action else None
        card = desk.counts_card(found, await desk.counts(found), tr)
        await interaction.followup.send(said or "", embed=card_embed(card), ephemeral=True)

    async def any_study(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return await study_choices(cog.bridge, current, open_only=False)

    built = []
    for name, callback, description in (
        ("results", results, "Results of a study: counts, themes, charts (admins)."),
        ("export", export, "A study's interviews as CSV, privately (admins)."),
        ("admin", admin, "A study's counts; pause, resume or close it (admins)."),
    ):
        command: app_commands.Command[Any, Any, Any] = app_commands.Command(
            name=name, description=description, callback=callback
        )
        command.autocomplete("study")(any_study)
        built.append(command)
    return built
