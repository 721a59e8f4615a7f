"""``/interview panel study:<id> [role:<role>]``: a persistent invitation in a channel — Discord's opt-in recruiting.

Discord forbids unsolicited mass DMs, so the bot never writes first: an admin (Manage Server, or a role the studies
file names) posts a panel, and members choose. **Take the interview** opens their DM with the study's consent
text (nothing reaches the interview API before they agree); **Remind me later** (on the panel, and under the
consent text in the DM) stores an opt-in, and only those volunteers get DM reminders, capped and spaced by the
invitation desk as on Slack. Both buttons carry the study and
the role in their custom id, so they work after a restart. The panels themselves are kept in the bridge's adapter
state, so the completed count on each is edited (at most once a minute, through the write budget) when it changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str

from adapters.discord import components, ids
from adapters.discord.reminders import DiscordReminders
from adapters.discord.results import admin_actor, study_choices
from bot.core import Catalogue, InvitationState, OutcomeKind, Study, StudyState, Volunteers, catalogue

if TYPE_CHECKING:
    from adapters.discord.cog import InterviewCog

__all__ = ["EDIT_SPACING", "SCOPE", "Panels", "panel_embed"]

log = logging.getLogger(__name__)

#: Adapter-state scope of the panels: ``index`` lists their message ids; each panel is kept under its message id.
SCOPE = "discord.panels"
INDEX = "index"
#: A panel's count is edited at most this often (seconds, on the core's clock).
EDIT_SPACING = 60.0
#: How often the running bot looks whether a count changed (seconds).
REFRESH_EVERY = 15.0
S = InvitationState


def panel_embed(study: Study, tr: Catalogue, completed: int) -> discord.Embed:
    """What a panel shows: the study's title, what it is, how long it takes, and the completed count."""
    about = study.description or tr.gettext("A short interview in your DMs with our AI interviewer, at your own pace.")
    embed = discord.Embed(title=components.clip(study.name, 256), description=about[:4000])
    if study.minutes:
        how_long = tr.ngettext("About {n} minute", "About {n} minutes", study.minutes).format(n=study.minutes)
    else:
        how_long = tr.gettext("A few minutes")
    embed.add_field(name=tr.gettext("How long"), value=how_long)
    embed.add_field(name=tr.gettext("Completed so far"), value=str(completed))
    embed.set_footer(
        text=tr.gettext(
            "Take the interview: the consent text comes first, in your DMs. "
            "Remind me later: a few reminders in your DMs, to you alone."
        )
    )
    return embed


class Panels:
    """The ``panel`` subcommand, the panels' buttons, the count on each panel, and the volunteers' reminders."""

    def __init__(self, cog: InterviewCog, volunteers: Volunteers | None) -> None:
        self.cog = cog
        self.volunteers = volunteers
        self.state = cog.bridge.adapter_state(SCOPE)
        self.reminders = DiscordReminders(cog)
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        cog.router.on_panel = self.on_click

        @app_commands.describe(
            study=locale_str("The study the panel invites to."),
            role=locale_str("Only members with this role may take it (optional)."),
        )
        async def panel(interaction: discord.Interaction[Any], study: str, role: discord.Role | None = None) -> None:
            await self.post(interaction, study, role)

        async def open_studies(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
            return await study_choices(cog.bridge, current, open_only=True)

        command: app_commands.Command[Any, Any, Any] = app_commands.Command(
            name="panel",
            description=locale_str("Post a panel here that invites members to an interview (admins)."),
            callback=panel,
        )
        command.autocomplete("study")(open_studies)
        cog.interview.add_command(command)

    # --- posting ---

    async def post(self, interaction: discord.Interaction[Any], study: str, role: discord.Role | None = None) -> None:
        """Post the panel in this channel (admins); the answer is private."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        desk, actor = self.cog.bridge.desk, admin_actor(interaction)
        tr = desk.translations(actor)
        found = desk.find(study, tr)
        text = await self._refusal(interaction, found, tr)
        if text is not None or isinstance(found, str) or self.volunteers is None:
            await interaction.followup.send(text or tr.gettext("Nothing to do."), ephemeral=True)
            return
        locale = interaction.guild_locale.value if interaction.guild_locale else self.cog.bridge.config.locale
        server = catalogue(locale)  # the panel is for the whole server: its language
        role_id = str(role.id) if role is not None else None
        count = await self.volunteers.completed(found)
        channel = str(interaction.channel_id)
        target = self.cog.adapter.client.get_partial_messageable(int(channel))
        try:
            async with self.cog.adapter.budget.write(channel):
                message = await target.send(
                    embed=panel_embed(found, server, count), view=components.panel_view(server, found.id, role_id)
                )
        except discord.HTTPException as error:
            log.info("discord: panel not posted", extra={"code": error.code})
            text = tr.gettext(
                "I can't post in this channel. Give me View Channel, Send Messages and Embed Links here, "
                "then try again."
            )
            await interaction.followup.send(text, ephemeral=True)
            return
        where = {"guild": str(interaction.guild_id), "channel": channel, "role": role_id}
        await self.volunteers.open_campaign(f"panel-{message.id}", found, where)
        panel = {"channel": channel, "study": found.id, "role": role_id, "locale": locale}
        await self._remember(str(message.id), {**panel, "shown": count, "edited_at": self._now()})
        text = tr.gettext(
            "Panel posted. Members who click it get the consent text in their DMs; "
            "nobody gets a DM they didn't ask for."
        )
        await interaction.followup.send(text, ephemeral=True)

    async def _refusal(self, interaction: discord.Interaction[Any], found: Study | str, tr: Catalogue) -> str | None:
        """Why the panel is not posted (None: it is)."""
        if interaction.guild_id is None or interaction.channel_id is None:
            return tr.gettext("Post a panel from a channel of your server.")
        if not self.cog.bridge.desk.may_administer(admin_actor(interaction)):
            return tr.gettext("Only the study's admins can do that.")
        if isinstance(found, str):
            return found
        if self.volunteers is not None and await self.volunteers.state(found) is StudyState.CLOSED:
            return tr.gettext("“{study}” is closed: there is nothing to invite to.").format(study=found.name)
        return None

    async def _remember(self, message_id: str, panel: dict[str, Any]) -> None:
        async with self._lock:
            index = await self.state.get(INDEX) or {}
            await self.state.put(message_id, panel)
            await self.state.put(INDEX, {"panels": [*index.get("panels", []), message_id]})

    # --- clicks ---

    async def on_click(self, interaction: discord.Interaction[Any], parsed: ids.ComponentId) -> None:
        """**Take the interview** or **Remind me later** (on a panel, or a reminder's button in a DM)."""
        study_id, role, _ = parsed.args
        tr = self.cog.tr(interaction)
        study = self.cog.bridge.studies.get(study_id)
        roles = {str(r.id) for r in getattr(interaction.user, "roles", [])}
        if study is None:
            await self.cog.router.tell(interaction, tr.gettext("This panel's study no longer exists."))
        elif role and interaction.guild_id is not None and role not in roles:
            text = tr.gettext("Sorry — this interview is for members with the <@&{role}> role.").format(role=role)
            await self.cog.router.tell(interaction, text)
        elif parsed.kind == "pt":
            outcome = await self.cog.start_in_dm(interaction, study.id)
            if outcome is OutcomeKind.UNREACHABLE and self.volunteers is not None:
                await self.volunteers.undeliverable(
                    self._campaign_of(interaction, study), study, str(interaction.user.id)
                )
        else:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await interaction.followup.send(await self._remind_later(interaction, study, tr), ephemeral=True)

    @staticmethod
    def _campaign_of(interaction: discord.Interaction[Any], study: Study) -> str:
        """The campaign a click belongs to: the panel's, or (a button in a DM) the study's DM campaign."""
        message = interaction.message
        if message is not None and interaction.guild_id is not None:
            return f"panel-{message.id}"
        return f"dm-{study.id}"

    async def _remind_later(self, interaction: discord.Interaction[Any], study: Study, tr: Catalogue) -> str:
        if self.volunteers is None:
            return tr.gettext("Nothing to do.")
        if await self.volunteers.state(study) is StudyState.CLOSED:
            return tr.gettext("“{study}” is closed: there is nothing to remind you of.").format(study=study.name)
        user = str(interaction.user.id)
        invitation, left = await self.volunteers.remind_later(self._campaign_of(interaction, study), study, user)
        if invitation.state is S.STARTED:
            return tr.gettext("You've already started this interview: carry on in our DMs.")
        if invitation.state is S.COMPLETED:
            return tr.gettext("You've already taken part in “{study}”. Thank you!").format(study=study.name)
        if invitation.next_at is None:
            return tr.gettext("I can't remind you about this study.")
        return tr.ngettext(
            "Done — I'll remind you in our DMs, once at most. Keep DMs from this server open.",
            "Done — I'll remind you in our DMs, {count} times at most. Keep DMs from this server open.",
            left,
        ).format(count=left)

    # --- the count on each panel ---

    def _now(self) -> float:
        return self.cog.bridge.clock.now()

    async def refresh(self) -> int:
        """Edit each panel whose completed count changed, at most once per :data:`EDIT_SPACING`; how many were."""
        if self.volunteers is None:
            return 0
        async with self._lock:
            index = await self.state.get(INDEX) or {}
            counts: dict[str, int] = {}
            edited, kept = 0, []
            for message_id in index.get("panels", []):
                panel = await self.state.get(message_id)
                study = self.cog.bridge.studies.get(panel.get("study")) if panel else None
                if panel is None or study is None:
                    continue
                kept.append(message_id)
                if self._now() - float(panel.get("edited_at", 0.0)) < EDIT_SPACING:
                    continue
                if study.id not in counts:
                    counts[study.id] = await self.volunteers.completed(study)
                if counts[study.id] == panel.get("shown"):
                    continue
                gone = await self._edit(message_id, panel, study, counts[study.id])
                if gone:
                    kept.remove(message_id)
                    await self.state.put(message_id, None)
                edited += not gone
            if kept != index.get("panels", []):
                await self.state.put(INDEX, {"panels": kept})
            return edited

    async def _edit(self, message_id: str, panel: dict[str, Any], study: Study, count: int) -> bool:
        """Show ``count`` on the panel; True if the panel is gone (deleted)."""
        channel = str(panel["channel"])
        message = self.cog.adapter.client.get_partial_messageable(int(channel)).get_partial_message(int(message_id))
        try:
            async with self.cog.adapter.budget.write(channel):
                await message.edit(embed=panel_embed(study, catalogue(panel.get("locale")), count))
        except discord.NotFound:
            log.info("discord: a panel was deleted; its count is no longer kept")
            return True
        except discord.HTTPException as error:
            log.info("discord: panel count not edited", extra={"code": error.code})
            return False
        await self.state.put(message_id, {**panel, "shown": count, "edited_at": self._now()})
        return False

    # --- background work of the running bot ---

    def start(self) -> None:
        """Keep the counts current and send the volunteers' reminders until :meth:`stop`."""
        if self.volunteers is not None:
            self.volunteers.start(self.reminders)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._keep_counts(), name="discord-panels")

    async def stop(self) -> None:
        """Stop both loops (nothing is lost: the panels and the reminders' timers are in storage)."""
        if self.volunteers is not None:
            await self.volunteers.stop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _keep_counts(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception as error:  # the store or Discord is down: next round, never crash the bot
                log.warning("discord: panel counts not refreshed: %s", type(error).__name__)
            await asyncio.sleep(REFRESH_EVERY)
