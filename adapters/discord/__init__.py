"""Discord adapter: AI-moderated interviews in members' DMs.

Run it as its own bot (``interview-bridge run`` with ``DISCORD_TOKEN``) or load it into an existing
``commands.Bot`` with ``await bot.load_extension("adapters.discord")`` (see :mod:`.extension`).
"""

from adapters.discord.extension import setup

__all__ = ["setup"]
