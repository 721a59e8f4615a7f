"""The adapter as an extension of a bot a community already runs: ``await bot.load_extension(...)``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import discord
from discord.ext import commands

from bot.adapters.discord.cog import NOT_ELIGIBLE
from bot.config import Settings
from tests.discord.fake_discord import FakeDiscord, point_discord_py_at, running_client

GUILD, ADA, BOB, STRANGER = "700", "3001", "3002", "3003"


async def test_extension_in_a_host_bot_with_allowed_roles(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        with point_discord_py_at(fake):
            fake.add_user(ADA, "ada")
            fake.add_user(BOB, "bob")
            fake.add_user(STRANGER, "stranger")
            fake.add_guild(GUILD, "Pixel Forge", [ADA, BOB], roles={"testers": [ADA]})
            host = commands.Bot(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.05)

            @host.tree.command(name="ping", description="The host bot's own command.")
            async def ping(interaction: discord.Interaction[Any]) -> None:
                await interaction.response.send_message("pong")

            # no bridge handed over: setup() opens one from the settings (here: the built-in server)
            host.interview_settings = Settings(  # type: ignore[attr-defined]
                _env_file=None,  # type: ignore[call-arg]
                database_path=str(tmp_path / "bridge.db"),
                emulator_token_rate=4000.0,
                discord_edit_interval=0.05,
                discord_allowed_guilds=GUILD,  # type: ignore[arg-type]
                discord_allowed_roles=fake.role_id(GUILD, "testers"),  # type: ignore[arg-type]
            )
            async with running_client(host, fake):
                await host.load_extension("bot.adapters.discord")
                await host.tree.sync()
                names = {c["name"] for c in fake.world.global_commands}
                assert {"ping", "interview", "interview-button"} <= names

                await fake.user_sends_dm(ADA, "hi")
                ada_dm = fake.dm_channel_of(ADA)
                assert ada_dm is not None
                await fake.wait_for(lambda: any("To start" in m["content"] for m in fake.bot_messages(ada_dm)), 10.0)

                for outsider in (BOB, STRANGER):  # no tester role / not in the allowed guild
                    await fake.user_sends_dm(outsider, "hi")
                    dm = fake.dm_channel_of(outsider)
                    assert dm is not None
                    await fake.wait_for(lambda dm=dm: bool(fake.bot_messages(dm)), 10.0)
                    assert [m["content"] for m in fake.bot_messages(dm)] == [NOT_ELIGIBLE]

                await host.unload_extension("bot.adapters.discord")
                assert host.get_cog("Interview") is None
                await fake.user_sends_dm(ADA, "still there?")  # nothing answers once unloaded
                await host.load_extension("bot.adapters.discord")  # and it loads again (the bridge reopens)
                assert host.get_cog("Interview") is not None
            fake.assert_no_spec_errors()
