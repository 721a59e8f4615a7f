"""Opening a member's DM unasked, for a handoff from another bot (``bot.core.DirectMessages``)."""

from __future__ import annotations

from typing import Any

import discord

from bot.core import ConversationKey, RespondentInfo, RespondentUnreachable

__all__ = ["DirectOpening"]


class DirectOpening:
    """Mixed into the Discord adapter: ``open_direct(guild id, user id)``; sends nothing."""

    client: discord.Client
    platform: str

    async def open_direct(self, workspace: str, user: str) -> tuple[ConversationKey, RespondentInfo]:
        """The member's DM key and what Discord says of them; not a member (or no such guild): unreachable."""
        if not (workspace.isdigit() and user.isdigit()):
            raise RespondentUnreachable("guild and user ids are numbers on Discord")
        try:
            member: Any = await self.client.http.get_member(int(workspace), int(user))
            channel = await self.client.http.start_private_message(int(user))
        except (discord.NotFound, discord.Forbidden) as error:
            raise RespondentUnreachable(f"discord error {error.code}") from None
        person = member.get("user") or {}
        roles = {str(role) for role in member.get("roles") or []}
        respondent = RespondentInfo(
            external_id=user,
            display_name=member.get("nick") or person.get("global_name") or person.get("username"),
            metadata={"platform": "discord", "discord_guild": workspace},
            groups=frozenset({*roles, workspace}),
        )
        return ConversationKey(self.platform, "", str(channel["id"]), user), respondent
