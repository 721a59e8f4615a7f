"""The Discord gateway link for readiness and metrics: READY (or RESUMED) is up, a disconnect is down.

discord.py reconnects by itself; it tells the bot through ``on_disconnect``, ``on_ready`` and ``on_resumed``.
Each 429 discord.py receives is counted through an aiohttp trace on its HTTP session.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import aiohttp
from discord.ext import commands

from bot.core import Connections, Observer

log = logging.getLogger(__name__)

#: The link's name in :class:`~bot.core.observe.Connections`.
LINK = "discord"
#: The link of an instance with ``DISCORD_GATEWAY=false`` instead: up once Discord took the token over REST. A
#: name of its own, so the ``discord`` links of all instances together count the gateways open (one is right).
REST_LINK = "discord-rest"


class GatewayLink(commands.Cog, name="InterviewGatewayLink"):
    """Keeps ``link`` in step with the gateway session."""

    def __init__(self, connections: Connections) -> None:
        self._connections = connections
        self.link = connections.track(LINK)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """A fresh session is READY."""
        self.link.up("gateway READY")

    @commands.Cog.listener()
    async def on_resumed(self) -> None:
        """The session was resumed after a reconnect."""
        self.link.up("gateway RESUMED")

    @commands.Cog.listener()
    async def on_disconnect(self) -> None:
        """The gateway connection dropped (discord.py reconnects by itself)."""
        if self.link.connected:
            log.warning("discord: gateway connection lost; reconnecting")
        self.link.down("gateway disconnected (reconnecting)")

    async def cog_unload(self) -> None:
        """The extension is unloaded: the link is no longer needed."""
        self.link.down("stopped")
        self._connections.forget(LINK)


def rate_limit_trace(observer: Observer) -> aiohttp.TraceConfig:
    """An aiohttp trace for discord.py's HTTP session (``http_trace=``) that counts 429 answers."""

    async def on_request_end(
        session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        if params.response.status == 429:
            observer.rate_limited(api="discord", platform="discord")

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    return trace
