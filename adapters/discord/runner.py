"""Running the adapter as its own bot (``interview-bridge run`` with ``DISCORD_TOKEN``).

With ``DISCORD_GATEWAY=false`` the bot logs in over REST only (``Client.login`` without ``connect``): it receives
nothing (DMs, clicks and commands reach the one instance that opens the gateway), but everything it sends goes by
REST anyway, so it runs the Discord turns it takes over, the sweeps while it leads, the volunteers' reminders,
results cards and handoffs over the HTTP API. See docs/scaling.md.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord.ext import commands

from adapters.discord.extension import configure_endpoints
from adapters.discord.link import REST_LINK, rate_limit_trace
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
        self.interview_gateway = True  # False: logged in over REST only (serve_over_rest), no gateway link
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


GATEWAY_ELSEWHERE = (
    "DISCORD_GATEWAY=false: this instance opens no Discord gateway, so it receives no DM, click or command; it "
    "only helps an instance that does, on the same PostgreSQL. Set DATABASE_URL=postgresql://… (the database of "
    "that instance), or remove DISCORD_GATEWAY=false."
)


async def run_discord(bridge: Bridge, settings: Settings, *, sync_commands: bool = True) -> None:
    """Connect and serve until cancelled. Commands are synced at start unless told otherwise.

    With ``DISCORD_GATEWAY=false``: log in over REST only and serve what needs no gateway (see the module);
    commands are then left to the gateway's instance to sync.

    Raises :class:`DiscordSetupError` (one clear sentence, for the caller to report) when Discord refuses
    the token or an intent, or when REST only is asked for without a database shared with a gateway.
    """
    if settings.discord_token is None:
        raise DiscordSetupError("DISCORD_TOKEN is not set")
    if not settings.discord_gateway and not settings.shares_database():
        raise DiscordSetupError(GATEWAY_ELSEWHERE)
    bot = build_bot(bridge, settings, sync_commands=sync_commands and settings.discord_gateway)
    try:
        async with bot:
            if settings.discord_gateway:
                await bot.start(settings.discord_token.get_secret_value())
            else:
                await serve_over_rest(bot, settings.discord_token.get_secret_value())
    except discord.LoginFailure:  # the caller reports it, once (`interview-bridge run` prints it)
        raise DiscordSetupError(BAD_TOKEN) from None
    except discord.PrivilegedIntentsRequired:
        raise DiscordSetupError(MISSING_INTENT) from None


async def serve_over_rest(bot: InterviewBot, token: str) -> None:
    """Log in without a gateway and serve until cancelled.

    ``login`` runs ``setup_hook``, which loads the extension: the adapter registers with the bridge (resuming the
    Discord work this instance owns), the volunteers' reminders and the panels' counts run. There is no gateway
    link; the ``discord-rest`` link is up once Discord accepted the token, and readiness requires it.
    """
    bot.interview_gateway = False  # the extension then tracks no gateway link
    link = bot.interview_bridge.connections.track(REST_LINK)
    await bot.login(token)
    link.up("logged in over REST (DISCORD_GATEWAY=false)")
    log.info("discord: logged in over REST only (DISCORD_GATEWAY=false): DMs and clicks go to the gateway's instance")
    try:
        await asyncio.Event().wait()
    finally:
        link.down("stopped")
