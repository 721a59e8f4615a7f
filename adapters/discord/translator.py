"""Slash command descriptions in every language the catalogue ships (Discord shows each member theirs).

The descriptions are written in English as ``locale_str("…")`` in :mod:`adapters.discord.cog`; ``make messages``
extracts them with the other sentences (keyword ``locale_str``). Names of commands and options are typed by
members and stay as they are.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.core import catalogue, language_of

__all__ = ["CatalogueTranslator"]

_DESCRIPTIONS = frozenset(
    {
        app_commands.TranslationContextLocation.command_description,
        app_commands.TranslationContextLocation.group_description,
        app_commands.TranslationContextLocation.parameter_description,
    }
)


class CatalogueTranslator(app_commands.Translator):
    """Translates command and option descriptions from the text catalogue when commands are synced."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        """The description in ``locale``'s language, or None (Discord then shows the English one)."""
        if context.location not in _DESCRIPTIONS or language_of(locale.value) == "en":
            return None
        translated = catalogue(locale.value).gettext(string.message)
        return translated if translated != string.message else None
