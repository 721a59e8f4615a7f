"""Who may take a study, for DMs: the member's guilds and roles, looked up when studies restrict by them.

An interaction carries the member's roles; a plain DM does not, so the guilds (and roles) a study names are
looked up over REST, at most once per member every few minutes, and only when some study restricts by them.
Only the instance with the gateway asks (DMs arrive there), so the guild cache it falls back on is filled.
"""

from __future__ import annotations

import time

import discord
from discord.ext import commands

from bot.core import StudyBook

__all__ = ["Audiences"]

#: Seconds a member's guilds and roles are remembered.
TTL = 300.0


class Audiences:
    """The guild and role ids of a member, as far as the studies' ``who`` needs them."""

    def __init__(self, bot: commands.Bot, studies: StudyBook) -> None:
        self._bot = bot
        self._guilds = sorted({g for s in studies.studies for g in s.audience.discord_guilds})
        self._needed = bool(self._guilds) or any(s.audience.discord_roles for s in studies.studies)
        self._cache: dict[int, tuple[float, frozenset[str]]] = {}

    async def groups(self, user_id: int) -> frozenset[str]:
        """Guild ids the member is in and their role ids there (empty when no study restricts by them)."""
        if not self._needed:
            return frozenset()
        cached = self._cache.get(user_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        found: set[str] = set()
        for guild in self._guilds or [str(g.id) for g in self._bot.guilds]:
            try:
                member = await self._bot.http.get_member(int(guild), user_id)
            except discord.HTTPException:
                continue
            found.add(guild)
            found.update(str(role) for role in member.get("roles", []))
        groups = frozenset(found)
        self._cache[user_id] = (time.monotonic() + TTL, groups)
        return groups
