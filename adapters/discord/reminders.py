"""The invitation desk's sender on Discord: reminders to the DMs of members who clicked **Remind me later**.

Discord forbids unsolicited DMs, so only an invitee who opted in is ever written to; anything else the desk might
hand over (a queued invitation nobody asked for) is refused as undeliverable, never sent. A reminder says what the
study is and carries **Take the interview**; DMs closed (50007) make the person undeliverable.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord import components, ids
from adapters.discord.adapter import TRANSIENT, dm_key, is_unreachable
from bot.core import Catalogue, Delivery, Invitation, RespondentUnreachable, Study, catalogue

if TYPE_CHECKING:
    from adapters.discord.cog import InterviewCog

__all__ = ["DiscordReminders", "reminder_text"]

log = logging.getLogger(__name__)

#: How many of the DM's latest messages are searched for a reminder that may have gone out before a crash.
HISTORY = 20


def reminder_text(study: Study, tr: Catalogue) -> str:
    """A reminder: which study, what it is, and that the member asked for it."""
    lines = [
        tr.gettext("A reminder: would you take part in the interview “{study}”?").format(study=study.name),
        tr.gettext("You asked me to remind you. It's a short interview here in our DMs."),
    ]
    if study.description:
        lines.insert(1, study.description)
    return "\n".join(lines)


class DiscordReminders:
    """Implements the desk's ``InvitationSender`` port for Discord (volunteers only)."""

    def __init__(self, cog: InterviewCog) -> None:
        self.cog = cog

    async def send_invitation(self, invitation: Invitation, study: Study, *, reminder: int) -> Delivery:
        """Post reminder number ``reminder`` into the volunteer's DM."""
        if not invitation.opted_in or reminder == 0:
            log.warning("discord: an invitation nobody asked for was not sent (Discord people opt in)")
            return Delivery.UNDELIVERABLE
        locale = await self.cog.locales.of(invitation.user_id) or study.locale or self.cog.bridge.config.locale
        tr = catalogue(locale)
        adapter = self.cog.adapter
        try:
            channel = await adapter.client.create_dm(discord.Object(id=int(invitation.user_id)))
            key = dm_key(channel.id, invitation.user_id)
            await adapter.send(key, reminder_text(study, tr), components.take_view(tr, study.id, reminder))
        except RespondentUnreachable:
            return Delivery.UNDELIVERABLE
        except discord.HTTPException as error:  # opening the DM failed
            if is_unreachable(error):
                return Delivery.UNDELIVERABLE
            log.warning("discord: reminder not sent", extra={"code": error.code})
            return Delivery.FAILED
        except TRANSIENT as error:
            log.warning("discord: reminder not sent", extra={"error": type(error).__name__})
            return Delivery.FAILED
        log.info("discord: reminder %d sent", reminder)
        return Delivery.SENT

    async def time_zone(self, invitation: Invitation) -> str | None:
        """Discord tells no member's time zone: the desk's default (UTC working hours) applies."""
        return None

    async def already_sent(self, invitation: Invitation, study: Study, *, reminder: int) -> bool:
        """Whether reminder number ``reminder`` is among the DM's latest messages (its button's custom id says so).
        A DM that cannot be opened holds nothing; any other failure raises: not knowing is no reason to send twice."""
        marker = ids.panel_id("pt", study.id, None, f"r{reminder}")
        client = self.cog.adapter.client
        try:
            channel = await client.create_dm(discord.Object(id=int(invitation.user_id)))
        except discord.HTTPException as error:
            if is_unreachable(error):
                return False
            raise
        bot = str(getattr(client.user, "id", ""))
        for message in await client.http.logs_from(channel.id, HISTORY):
            mine = str(message.get("author", {}).get("id")) == bot
            if mine and marker in _custom_ids(message.get("components") or []):
                return True
        return False


def _custom_ids(components: list[Any]) -> list[str]:
    """Every custom id in a message's raw components."""
    found: list[str] = []
    for component in components:
        if "custom_id" in component:
            found.append(str(component["custom_id"]))
        found.extend(_custom_ids(component.get("components") or []))
    return found
