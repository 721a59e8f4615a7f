"""The extension in a large host bot that shards: ``commands.AutoShardedBot`` with two gateway connections.

Discord sends direct messages to shard 0 only, and a guild's events (its interactions too) to the shard
``(guild_id >> 22) % shard_count``. The fake gateway does the same, and takes IDENTIFY with the ``shard`` array as
Discord documents it. The guild here lives on shard 1, so its member's DM and their slash command reach the
extension through different connections.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import discord
from discord.ext import commands
from fake_discord import FakeDiscord, point_discord_py_at, running_client
from test_discord_extension import _settings, agree

from adapters.discord.cog import not_eligible
from bot.core.i18n import catalogue

GUILD = str(1 << 22)  # (id >> 22) % 2 == 1: the guild's events go to shard 1
ADA, BOB = "3001", "3002"


class ShardedHost(commands.AutoShardedBot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        pass  # discord.py sleeps 5 s between two shards' IDENTIFYs by default


async def test_extension_in_an_auto_sharded_host(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        with point_discord_py_at(fake):
            fake.add_user(ADA, "ada")
            fake.add_user(BOB, "bob")
            fake.add_guild(GUILD, "Big Community", [ADA, BOB], roles={"testers": [ADA]})
            host = ShardedHost(
                command_prefix="!", intents=discord.Intents.default(), shard_count=2, guild_ready_timeout=0.05
            )
            roles = fake.role_id(GUILD, "testers")
            host.interview_settings = _settings(  # type: ignore[attr-defined]
                tmp_path, discord_allowed_guilds=GUILD, discord_allowed_roles=roles
            )
            async with running_client(host, fake):
                await host.load_extension("adapters.discord")
                await host.tree.sync()
                sessions = [s for s in fake.gateway.sessions.values() if s.shard is not None]
                assert sorted(s.shard for s in sessions) == [(0, 2), (1, 2)]
                guild = host.get_guild(int(GUILD))
                assert guild is not None and guild.shard_id == 1

                await fake.user_sends_dm(ADA, "hi")  # on shard 0; her roles come from the guild on shard 1
                dm = fake.dm_channel_of(ADA)
                assert dm is not None
                await agree(fake, ADA, dm)
                await fake.wait_for(lambda: any("To start" in m["content"] for m in fake.bot_messages(dm)), 10.0)

                refused = await fake.slash_command(  # an interaction in the guild: on shard 1
                    BOB, "interview", [{"type": 1, "name": "start", "options": []}], guild_id=GUILD
                )
                await fake.wait_for(lambda: bool(refused.followups), 10.0)
                assert refused.all_texts()[-1] == not_eligible(catalogue(None))
                await asyncio.sleep(0.05)
                starts = [m for m in fake.bot_messages(dm) if "To start" in m["content"]]
                assert len(starts) == 1  # the DM was handled once, though two shards are connected
            fake.assert_no_spec_errors()
