"""Slash commands (``/interview start|stop|status``, ``/interview-button``) and the DM listener."""

from __future__ import annotations

import contextlib
import logging
import time
from contextlib import AsyncExitStack
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from adapters.discord import catchup, components, ids, locales, privacy
from adapters.discord.adapter import DiscordAdapter, WriteBudget, dm_key, is_unreachable
from adapters.discord.interactions import ComponentRouter, locale_of, on_message_still, respondent_of, unavailable
from adapters.discord.panel import Panels
from adapters.discord.results import add_study_commands, study_choices
from adapters.discord.translator import CatalogueTranslator
from bot.config import Settings
from bot.core import (
    DEFAULT_STUDY,
    Bridge,
    Catalogue,
    ConversationKey,
    Exit,
    Outcome,
    OutcomeKind,
    RespondentInfo,
    Start,
    UserText,
    Volunteers,
    catalogue,
    ending_label,
)

log = logging.getLogger(__name__)

#: Seconds an eligibility check is cached (a REST lookup per allowed guild otherwise).
ELIGIBILITY_TTL = 300.0


def dms_closed(tr: Catalogue) -> str:
    """The member's DMs are closed to the bot: how to open them."""
    return tr.gettext(
        "I couldn't send you a direct message, so the interview hasn't started. To open your DMs: right-click "
        "(or long-press) this server → **Privacy Settings** → turn on **Direct Messages**, then try again."
    )


def not_eligible(tr: Catalogue) -> str:
    """The member is outside the allowed servers or roles."""
    return tr.gettext("Sorry — interviews here are only open to members of the participating servers or roles.")


class InterviewCog(commands.Cog, name=components.COG_NAME):
    """Interviews in members' DMs: DM listener, slash commands, persistent Start buttons and components."""

    interview = app_commands.Group(name="interview", description=locale_str("Take part in an interview in your DMs."))

    def __init__(
        self, bot: commands.Bot, bridge: Bridge, settings: Settings, volunteers: Volunteers | None = None
    ) -> None:
        """Serve ``bridge``'s Discord conversations through ``bot``; ``volunteers``: the panels' opt-ins."""
        self.bot = bot
        self.bridge = bridge
        self.settings = settings
        writes = WriteBudget.from_settings(settings, bridge.observer)  # every write into a DM, fairly served
        self.adapter = DiscordAdapter(bot, budget=writes, state=bridge.adapter_state)
        self.seen = bridge.adapter_state(catchup.SEEN_SCOPE)
        self.locales = locales.MemberLocales(bridge.adapter_state(locales.SCOPE))
        self.router = ComponentRouter(bridge, self.adapter)
        self.router.on_start = self.start_in_dm
        self.resources = AsyncExitStack()  # closed when the cog is unloaded (with the bridge setup() opened)
        self.audiences = add_study_commands(self)  # /interview results|export|admin; DM writers' guilds/roles
        privacy.add_privacy_commands(self)  # /interview forget-me|my-data
        self.panels = Panels(self, volunteers)  # /interview panel, its buttons, counts and volunteers' reminders
        self._eligible: dict[str, tuple[float, bool]] = {}
        self._told_ineligible: dict[str, float] = {}

    async def cog_load(self) -> None:
        """Register the persistent components and the adapter (which resumes unfinished Discord work)."""
        self.bot.add_dynamic_items(components.InterviewComponent)  # clicks find this cog by bot.get_cog
        if self.bot.tree.translator is None:  # a host bot's own translator stays
            await self.bot.tree.set_translator(CatalogueTranslator())
        self.bridge.register(self.adapter)
        self.panels.start()

    async def cog_unload(self) -> None:
        """Stop routing clicks to this cog, stop the adapter's background edits, close what the cog owns."""
        if isinstance(self.bot.tree.translator, CatalogueTranslator):
            await self.bot.tree.set_translator(None)
        self.bot.remove_dynamic_items(components.InterviewComponent)
        self.bridge.unregister(self.adapter)  # a host's bridge outlives the extension
        await self.panels.stop()
        await self.adapter.close()
        await self.resources.aclose()  # e.g. the bridge setup() opened for a host that passed none

    # --- who may be interviewed ---

    async def is_eligible(
        self, user_id: int, member_roles: list[int] | None = None, guild_id: int | None = None
    ) -> bool:
        """Open to anyone sharing a server unless DISCORD_ALLOWED_GUILDS / DISCORD_ALLOWED_ROLES restrict it
        (asked on a DM or an interaction: on the gateway's instance, whose guild cache is filled)."""
        guilds, roles = self.settings.discord_allowed_guilds, self.settings.discord_allowed_roles
        if not guilds and not roles:
            return True
        if guild_id is not None and member_roles is not None:  # an interaction carries the member's roles
            in_guild = not guilds or str(guild_id) in guilds
            return in_guild and (not roles or bool({str(r) for r in member_roles} & set(roles)))
        cached = self._eligible.get(str(user_id))
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        verdict = False
        for guild in guilds or tuple(str(g.id) for g in self.bot.guilds):
            try:
                member = await self.bot.http.get_member(int(guild), user_id)
            except discord.HTTPException:
                continue
            if not roles or {str(r) for r in member.get("roles", [])} & set(roles):
                verdict = True
                break
        self._eligible[str(user_id)] = (time.monotonic() + ELIGIBILITY_TTL, verdict)
        return verdict

    # --- DMs ---

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A DM from a member: continue their interview, or start one."""
        if message.guild is not None or message.author.bot or message.author.id == getattr(self.bot.user, "id", None):
            return
        if not await self.is_eligible(message.author.id):
            now = time.monotonic()
            if self._told_ineligible.get(str(message.author.id), 0.0) < now:  # say it once in a while, not per message
                self._told_ineligible[str(message.author.id)] = now + 600
                with contextlib.suppress(discord.HTTPException):
                    await message.channel.send(not_eligible(catalogue(self.bridge.config.locale)))
            return
        author = message.author
        await self._handle_dm(
            dm_key(message.channel.id, author.id),
            message.id,
            message.content,
            name=author.name,
            display_name=author.global_name or author.name,
            attachments=len(message.attachments),
        )

    async def _handle_dm(
        self, key: ConversationKey, message_id: int, text: str, *, name: str, display_name: str, attachments: int
    ) -> None:
        """One DM of a member (live, or caught up from history) into the core."""
        event = UserText(
            key=key,
            text=text,
            respondent=RespondentInfo(
                external_id=key.user,
                display_name=display_name,
                locale=await self.locales.of(key.user),  # a DM carries none: the member's last interaction's
                metadata={"platform": "discord", "discord_user": name},
                groups=await self.audiences.groups(int(key.user)),
            ),
            event_id=str(message_id),
            attachments=attachments,
        )
        try:
            # the anchor just before this message first: if we stop midway, the catch-up reads it again
            await catchup.remember_seen(self.seen, key, message_id - 1)
            outcome = await self.bridge.handle(event)
            await catchup.remember_seen(self.seen, key, message_id)
        except Exception:  # the anchor could not be stored: the core never saw the message
            log.exception("discord: a DM could not be handled")
            outcome = Outcome(OutcomeKind.ERROR, None)
        if outcome.kind is OutcomeKind.UNREACHABLE:
            log.info("discord: DM reply failed: member unreachable")
        elif outcome.kind is OutcomeKind.ERROR and not self.bot.is_closed():
            # never a silent drop: the member learns their message was not taken
            tr = catalogue(self.bridge.config.locale)
            with contextlib.suppress(discord.HTTPException, RuntimeError):
                async with self.adapter.budget.write(key.channel):  # it counts in the DM's window too
                    await self.adapter.channel(key).send(f"⚠️ {outcome.message or unavailable(tr)}")

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """After each fresh gateway session: take the DMs written while no session was listening."""
        for key in await self.bridge.active_conversations(self.adapter.platform):
            try:
                missed = await catchup.missed_messages(self.bot.http, self.seen, key)
            except discord.HTTPException as error:
                log.info("discord: DM history not read", extra={"code": error.code})
                continue
            for payload in missed:
                author = payload["author"]
                await self._handle_dm(
                    key,
                    int(payload["id"]),
                    str(payload.get("content") or ""),
                    name=str(author.get("username") or ""),
                    display_name=str(author.get("global_name") or author.get("username") or ""),
                    attachments=len(payload.get("attachments") or []),
                )

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """A message of a reply still streaming was deleted: that part is posted again."""
        self.adapter.message_deleted(payload.message_id)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Route what DynamicItem does not: modal submits, and clicks on components a message no longer has.

        discord.py dispatches a DynamicItem only if the clicked component is still on the message; a stale
        client clicking a replaced button would otherwise get "This interaction failed" instead of a word.
        """
        await self.locales.saw(interaction)  # every interaction shows the member's language (a DM does not)
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if not custom_id.startswith(ids.PREFIX + ":"):
            return
        if interaction.type is discord.InteractionType.modal_submit:
            await self.router.on_modal(interaction, custom_id)
        elif interaction.type is discord.InteractionType.component and not on_message_still(interaction, custom_id):
            await self.router.on_component(interaction, custom_id)

    # --- starting from a server ---

    async def start_in_dm(self, interaction: discord.Interaction[Any], study: str | None) -> OutcomeKind | None:
        """Open the member's DM and start there; DMs closed → an ephemeral how-to and nothing half-started.

        Returns how it went (``UNREACHABLE``: DMs closed; None: refused before the core was asked, or failed)."""
        try:
            return await self._start_in_dm(interaction, study)
        except Exception:
            log.exception("discord: start failed")
            await self._say_unavailable(interaction)
            return None

    def tr(self, interaction: discord.Interaction[Any]) -> Catalogue:
        """The catalogue of the member behind ``interaction`` (KOJI_LOCALE if it tells none)."""
        return catalogue(locale_of(interaction) or self.bridge.config.locale)

    async def _start_in_dm(self, interaction: discord.Interaction[Any], study: str | None) -> OutcomeKind | None:
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=True, thinking=True)
        member_roles = [r.id for r in getattr(interaction.user, "roles", [])] if interaction.guild_id else None
        tr = self.tr(interaction)
        if not await self.is_eligible(interaction.user.id, member_roles, interaction.guild_id):
            await interaction.followup.send(not_eligible(tr), ephemeral=True)
            return None
        try:
            channel = await interaction.user.create_dm()
        except discord.HTTPException as error:
            if is_unreachable(error):
                await interaction.followup.send(dms_closed(tr), ephemeral=True)
                return OutcomeKind.UNREACHABLE
            text = tr.gettext("I couldn't open a DM with you. Please try again later.")
            await interaction.followup.send(text, ephemeral=True)
            return None
        guild = interaction.guild
        respondent = respondent_of(
            interaction,
            guild_id=str(interaction.guild_id) if interaction.guild_id else None,
            guild_name=guild.name if guild is not None else None,
        )
        key = dm_key(channel.id, interaction.user.id)
        outcome = await self.bridge.handle(Start(key, respondent, study, event_id=str(interaction.id)))
        if outcome.kind is OutcomeKind.UNREACHABLE:
            await interaction.followup.send(dms_closed(tr), ephemeral=True)
            return outcome.kind
        if outcome.kind is OutcomeKind.ACCEPTED:  # the DM's history after this is the member's
            await catchup.remember_seen(self.seen, key, interaction.id)
        if outcome.kind is OutcomeKind.ACCEPTED and interaction.guild_id is not None:
            text = tr.gettext("Your interview has started in our DMs: {link}").format(link=channel.jump_url)
        elif outcome.kind is OutcomeKind.ACCEPTED:
            text = tr.gettext("Your interview has started below.")
        else:
            text = outcome.message or tr.gettext("The interview could not start. Please try again later.")
            if interaction.guild_id is not None and outcome.kind is OutcomeKind.REJECTED:
                text += f" ({channel.jump_url})"
        await interaction.followup.send(text, ephemeral=True)
        return outcome.kind

    async def cog_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """A command failed inside: the member gets a short private word, never an endless "thinking…"."""
        log.error("discord: command failed: %r", getattr(error, "original", error))
        await self._say_unavailable(interaction)

    async def _say_unavailable(self, interaction: discord.Interaction[Any]) -> None:
        text = unavailable(self.tr(interaction))
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException as error:
            log.info("discord: could not tell the member about a failure", extra={"code": error.code})

    # --- slash commands ---

    @interview.command(name="start", description=locale_str("Start an interview in your DMs."))
    @app_commands.describe(study=locale_str("Which study to take part in (optional)."))
    async def start(self, interaction: discord.Interaction[Any], study: str | None = None) -> None:
        """``/interview start [study]``."""
        await self.start_in_dm(interaction, study)

    @start.autocomplete("study")
    async def _studies(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        """The open studies whose id or name contains what the member typed so far (closed/paused: not offered)."""
        return await study_choices(self.bridge, current, open_only=True)

    async def dm_key_of(self, interaction: discord.Interaction[Any]) -> Any:
        if interaction.guild_id is None and interaction.channel_id is not None:
            return dm_key(interaction.channel_id, interaction.user.id)
        channel = await interaction.user.create_dm()
        return dm_key(channel.id, interaction.user.id)

    @interview.command(name="stop", description=locale_str("End your interview."))
    async def stop(self, interaction: discord.Interaction[Any]) -> None:
        """``/interview stop``: ends the member's interview (what was shared so far is kept)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        key = await self.dm_key_of(interaction)
        outcome = await self.bridge.handle(
            Exit(
                key,
                confirmed=True,
                actor=str(interaction.user.id),
                event_id=str(interaction.id),
                locale=locale_of(interaction),
            )
        )
        tr = self.tr(interaction)
        if outcome.ok or outcome.kind is OutcomeKind.UNREACHABLE:
            text = tr.gettext("Your interview has ended. Thank you!")
        else:
            text = outcome.message or tr.gettext("You don't have an interview in progress.")
        await interaction.followup.send(text, ephemeral=True)

    @interview.command(name="status", description=locale_str("Where your interview stands."))
    async def status(self, interaction: discord.Interaction[Any]) -> None:
        """``/interview status``: an ephemeral summary."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        record = await self.bridge.status(await self.dm_key_of(interaction))
        tr = self.tr(interaction)
        if record is None:
            text = tr.gettext("You have no interview yet. Use `/interview start` to begin.")
        elif record.ended:
            text = tr.gettext(
                "Your last interview has ended ({how}). Thank you! Use `/interview start` for a new one."
            ).format(how=ending_label(record.end_reason, tr.language))
        else:
            since = f"<t:{int(record.created_at)}:R>" if record.created_at else None
            replies = tr.ngettext("{count} reply so far", "{count} replies so far", record.turns_sent).format(
                count=record.turns_sent
            )
            if record.study and record.study != DEFAULT_STUDY and since:
                text = tr.gettext(
                    "Your interview for **{study}** is in progress (started {since}, {replies}). Continue in our DMs."
                ).format(study=record.study, since=since, replies=replies)
            elif since:
                text = tr.gettext("Your interview is in progress (started {since}, {replies}). Continue in our DMs.")
                text = text.format(since=since, replies=replies)
            else:
                text = tr.gettext("Your interview is in progress ({replies}). Continue in our DMs.").format(
                    replies=replies
                )
        await interaction.followup.send(text, ephemeral=True)

    @app_commands.command(
        name="interview-button", description=locale_str("Post a persistent “Start interview” button here.")
    )
    @app_commands.describe(study=locale_str("Study the button starts (optional)."), label=locale_str("Button label."))
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def post_button(
        self, interaction: discord.Interaction[Any], study: str | None = None, label: str | None = None
    ) -> None:
        """Moderators: post a message with a "Start interview" button that opens a DM interview when clicked.

        The message is for the whole server: worded in the server's language (else KOJI_LOCALE).
        """
        server = interaction.guild_locale.value if interaction.guild_locale else self.bridge.config.locale
        tr = catalogue(server)
        label = label or tr.gettext("Start interview")
        try:
            view = components.start_view(study, components.clip(label, components.BUTTON_LABEL_LIMIT))
        except ValueError:
            text = self.tr(interaction).gettext("That study name is too long for a button.")
            await interaction.response.send_message(text, ephemeral=True)
            return
        await interaction.response.send_message(
            tr.gettext("Want to help us improve? Take a short interview in your DMs — click below to begin."), view=view
        )
