"""Loading the adapter into a bot: ``await bot.load_extension("adapters.discord")``.

A community that already runs a ``commands.Bot`` loads the adapter like any extension. ``setup`` uses, in
this order: a :class:`~bot.core.Bridge` the host put on ``bot.interview_bridge``; else it opens one
from :class:`~bot.config.Settings` (``bot.interview_settings`` if set, else the environment / ``.env``), which
the cog (``bot.get_cog("Interview")``) closes when the extension is unloaded. The host still syncs its command
tree itself (``await bot.tree.sync()``) once after the first load, as for any extension with slash commands.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

import discord
from discord.ext import commands

from adapters.discord.cog import InterviewCog
from adapters.discord.link import GatewayLink
from bot.config import Settings
from bot.core import Bridge

log = logging.getLogger(__name__)


def configure_endpoints(settings: Settings) -> None:
    """Point discord.py at ``DISCORD_API_URL`` / ``DISCORD_GATEWAY_URL`` (tests, proxies) before login."""
    if settings.discord_api_url:
        discord.http.Route.BASE = settings.discord_api_url.rstrip("/")
    if settings.discord_gateway_url:
        import yarl

        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def share_writes(bot: commands.Bot, cog: InterviewCog, bridge: Bridge) -> None:
    """On a database other instances share (PostgreSQL), book the cog's writes in the global window of this bot
    that they all book in, so together they stay within Discord's global limit."""
    from bot.app import shared_windows

    windows = shared_windows(bridge)
    if windows is None:
        return
    who = bot.user.id if bot.user is not None else bot.application_id
    if who is None:  # loaded before login: nothing names the bot yet
        log.warning("discord: the extension was loaded before login; its writes are not shared with other instances")
        return
    cog.adapter.budget.share(windows, str(who))


async def setup(bot: commands.Bot) -> None:
    """Add the interview cog (slash commands, DM listener, persistent components) to ``bot``.

    A bridge opened here belongs to the cog: it closes when the cog is removed (the extension unloaded), and at
    once if adding the cog fails.
    """
    settings: Settings = getattr(bot, "interview_settings", None) or Settings()
    bridge: Bridge | None = getattr(bot, "interview_bridge", None)
    async with AsyncExitStack() as stack:
        if bridge is None:
            from bot.app import open_bridge

            bridge = await stack.enter_async_context(open_bridge(settings))
        volunteers = getattr(bot, "interview_volunteers", None)
        if volunteers is None:  # Discord's opt-in recruiting (panels, reminders) on the bridge's store and clock
            from bot.app import volunteers as recruiting

            volunteers = recruiting(bridge, "discord")
        cog = InterviewCog(bot, bridge, settings, volunteers)
        share_writes(bot, cog, bridge)
        await bot.add_cog(cog)
        if getattr(bot, "interview_gateway", True):  # False: a bot that logs in over REST only (no gateway link)
            await bot.add_cog(GatewayLink(bridge.connections))
        cog.resources.push_async_exit(stack.pop_all())
    log.info("discord: interview extension loaded")
