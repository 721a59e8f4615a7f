"""Running the adapter as its own bot (``interview-bridge run`` with ``DISCORD_TOKEN``)."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord.ext import commands

from adapters.discord.extension import configure_endpoints
from adapters.discord.link import rate_limit_trace
from bot.config import Settings
from bot.core import Bridge

log = logging.getLogger(__name__)

EXTENSION = "adapters.discord"


def intents() -> discord.Intents:
    """What the bot needs: DMs (message content in DMs needs no privileged intent) and guilds (slash commands)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.dm_messages = True
    return wanted


class InterviewBot(commands.Bot):
    """A bot that only runs interviews: loads the extension in ``setup_hook`` (before the gateway connects)."""

    def __init__(self, bridge: Bridge, settings: Settings, *, sync_commands: bool = False, **options: Any) -> None:
        """``sync_commands``: push the slash commands to Discord at start (needed once, and after changes).

        ``options`` go to ``commands.Bot`` (e.g. ``guild_ready_timeout``).
        """
        super().__init__(command_prefix=commands.when_mentioned, intents=intents(), help_command=None, **options)
        self.interview_bridge = bridge
        self.interview_settings = settings
        self.sync_commands = sync_commands

    async def setup_hook(self) -> None:
        """Load the extension (registers persistent components, so old buttons work) and maybe sync commands."""
        await self.load_extension(EXTENSION)
        if self.sync_commands:
            synced = await self.tree.sync()
            log.info("discord: %d slash commands synced", len(synced))


def build_bot(bridge: Bridge, settings: Settings, *, sync_commands: bool = False) -> InterviewBot:
    """The bot, with discord.py pointed at the configured REST base and gateway."""
    configure_endpoints(settings)
    # Our own process only (never a host's, never at import): interviews are text, and the two voice warnings
    # discord.py prints when a client is made would only puzzle a moderator.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
    return InterviewBot(bridge, settings, sync_commands=sync_commands, http_trace=rate_limit_trace(bridge.observer))


class DiscordSetupError(ValueError):
    """Discord refused the bot's configuration (a wrong token, a missing intent): what to fix, no traceback."""


BAD_TOKEN = (
    "Discord refused DISCORD_TOKEN (401 Unauthorized). Copy the token again from the Developer Portal → your "
    "application → Bot → Reset Token, and check that nothing else (quotes, spaces, 'Bot ') is around it."
)
MISSING_INTENT = (
    "Discord refused an intent the bot asked for. interview-bridge needs no privileged intent; if you changed "
    "runner.intents(), switch that intent on under Developer Portal → Bot → Privileged Gateway Intents."
)


async def run_discord(bridge: Bridge, settings: Settings, *, sync_commands: bool = True) -> None:
    """Connect and serve until cancelled. Commands are synced at start unless told otherwise.

    Raises :class:`DiscordSetupError` (one clear sentence, for the caller to report) when Discord refuses
    the token or an intent.
    """
    if settings.discord_token is None:
        raise DiscordSetupError("DISCORD_TOKEN is not set")
    bot = build_bot(bridge, settings, sync_commands=sync_commands)
    try:
        async with bot:
            await bot.start(settings.discord_token.get_secret_value())
    except discord.LoginFailure:  # the caller reports it, once (`interview-bridge run` prints it)
        raise DiscordSetupError(BAD_TOKEN) from None
    except discord.PrivilegedIntentsRequired:
        raise DiscordSetupError(MISSING_INTENT) from None
