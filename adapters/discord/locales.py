"""The language each member's Discord client last showed: DMs carry no locale, interactions do.

A member who ever used a slash command or a button of the bot has a known language; an interview they start by
a plain DM is then held in it (else in KOJI_LOCALE). Kept in the bridge's adapter state, so it survives restarts.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from adapters.discord.interactions import locale_of
from bot.core import AdapterState

__all__ = ["SCOPE", "MemberLocales"]

log = logging.getLogger(__name__)

SCOPE = "discord.locale"


class MemberLocales:
    """Remembers members' client locales from their interactions."""

    def __init__(self, state: AdapterState) -> None:
        self._state = state
        self._known: dict[str, str] = {}

    async def saw(self, interaction: discord.Interaction[Any]) -> None:
        """Note the locale ``interaction`` carries (stored only when it changed)."""
        locale, user = locale_of(interaction), str(interaction.user.id)
        if not locale or self._known.get(user) == locale:
            return
        self._known[user] = locale
        try:
            await self._state.put(user, {"locale": locale})
        except Exception as error:  # a courtesy: the DM then falls back to the default language
            log.info("discord: member locale not stored (%s)", type(error).__name__)

    async def of(self, user: str) -> str | None:
        """The member's last known locale, if any."""
        if user in self._known:
            return self._known[user]
        try:
            value = await self._state.get(user)
        except Exception as error:
            log.info("discord: member locale not read (%s)", type(error).__name__)
            return None
        locale = str(value["locale"]) if value and value.get("locale") else None
        if locale:
            self._known[user] = locale
        return locale
