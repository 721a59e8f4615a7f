"""The adapter as an extension of a bot a community already runs: ``await bot.load_extension(...)``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import discord
import pytest
from discord.ext import commands
from discord_helpers import custom_ids
from fake_discord import FakeDiscord, point_discord_py_at, running_client

from adapters.discord import ids
from adapters.discord.adapter import dm_key
from adapters.discord.cog import not_eligible
from bot.config import Settings
from bot.core.i18n import catalogue

GUILD, ADA, BOB, STRANGER = "700", "3001", "3002", "3003"


async def agree(fake: FakeDiscord, user: str, dm: str) -> None:
    """Click **I agree** under the consent text in the member's DM."""
    button = ids.action_id("agree")
    await fake.wait_for(lambda: any(button in custom_ids(m) for m in fake.bot_messages(dm)), 10.0)
    consent = next(m for m in fake.bot_messages(dm) if button in custom_ids(m))
    clicked = await fake.click(user, consent["id"], button)
    await clicked.wait_responded(5.0)


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
                await host.load_extension("adapters.discord")
                await host.tree.sync()
                names = {c["name"] for c in fake.world.global_commands}
                assert {"ping", "interview", "interview-button"} <= names

                await fake.user_sends_dm(ADA, "hi")
                ada_dm = fake.dm_channel_of(ADA)
                assert ada_dm is not None
                await agree(fake, ADA, ada_dm)
                await fake.wait_for(lambda: any("To start" in m["content"] for m in fake.bot_messages(ada_dm)), 10.0)

                for outsider in (BOB, STRANGER):  # no tester role / not in the allowed guild
                    await fake.user_sends_dm(outsider, "hi")
                    dm = fake.dm_channel_of(outsider)
                    assert dm is not None
                    await fake.wait_for(lambda dm=dm: bool(fake.bot_messages(dm)), 10.0)
                    assert [m["content"] for m in fake.bot_messages(dm)] == [not_eligible(catalogue(None))]

                refused = await fake.slash_command(
                    BOB, "interview", [{"type": 1, "name": "start", "options": []}], guild_id=GUILD
                )
                await fake.wait_for(lambda: bool(refused.followups), 10.0)
                assert refused.ephemeral and refused.all_texts()[-1] == not_eligible(
                    catalogue(None)
                )  # roles from the interaction

                await host.unload_extension("adapters.discord")
                assert host.get_cog("Interview") is None
                await fake.user_sends_dm(ADA, "still there?")  # nothing answers once unloaded
                await host.load_extension("adapters.discord")  # and it loads again (the bridge reopens)
                assert host.get_cog("Interview") is not None
            fake.assert_no_spec_errors()


async def test_runner_honours_the_configured_rest_base_and_gateway(tmp_path: Path) -> None:
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    from adapters.discord.runner import run_discord
    from bot.app import open_bridge

    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    async with FakeDiscord() as fake:
        fake.add_user(ADA, "ada")
        fake.add_guild(GUILD, "Pixel Forge", [ADA])
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            discord_token=fake.token,  # type: ignore[arg-type]
            discord_api_url=fake.rest_base,
            discord_gateway_url=fake.gateway_url,
            database_path=str(tmp_path / "bridge.db"),
            emulator_token_rate=4000.0,
            discord_edit_interval=0.05,
        )
        try:
            async with open_bridge(settings) as bridge:
                runner = asyncio.create_task(run_discord(bridge, settings))
                try:
                    await fake.wait_for(lambda: any(c["name"] == "interview" for c in fake.world.global_commands), 15.0)
                    await fake.wait_until_identified()
                    await fake.user_sends_dm(ADA, "hi")
                    dm = fake.dm_channel_of(ADA)
                    assert dm is not None
                    await agree(fake, ADA, dm)
                    await fake.wait_for(lambda: any("To start" in m["content"] for m in fake.bot_messages(dm)), 10.0)
                finally:
                    runner.cancel()
                    await asyncio.gather(runner, return_exceptions=True)
        finally:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved
        assert fake.gateway.stats.identifies == 1
        fake.assert_no_spec_errors()


def _running(prefix: str) -> list[str]:
    """Names of the running tasks whose name starts with ``prefix``."""
    return [t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith(prefix) and not t.done()]


def _settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_path=str(tmp_path / "bridge.db"),
        emulator_token_rate=4000.0,
        discord_edit_interval=0.05,
        **extra,
    )


async def test_a_failed_load_leaves_no_bridge_running(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        with point_discord_py_at(fake):
            host = commands.Bot(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.05)

            @host.tree.command(name="interview", description="The host's own command of the same name.")
            async def clash(interaction: discord.Interaction[Any]) -> None:
                await interaction.response.send_message("mine")

            host.interview_settings = _settings(tmp_path)  # type: ignore[attr-defined]
            async with running_client(host, fake):
                assert _running("inactivity-sweep") == []
                with pytest.raises(commands.ExtensionFailed):
                    await host.load_extension("adapters.discord")
                assert _running("inactivity-sweep") == []  # the bridge setup() opened was closed again
                assert host.get_cog("Interview") is None


async def test_unloading_mid_reply_leaves_no_task_behind(tmp_path: Path) -> None:
    async with FakeDiscord(message_limit=(50, 1.0)) as fake:
        with point_discord_py_at(fake):
            fake.add_user(ADA, "ada")
            fake.add_guild(GUILD, "Pixel Forge", [ADA])
            host = commands.Bot(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.05)
            host.interview_settings = _settings(tmp_path)  # type: ignore[attr-defined]
            async with running_client(host, fake):
                await host.load_extension("adapters.discord")
                # not isinstance(): unloading the extension drops its modules, so classes differ per load
                adapter: Any = getattr(host.get_cog("Interview"), "adapter", None)
                assert adapter is not None
                key = dm_key((await host.http.start_private_message(int(ADA)))["id"], ADA)
                stream = await adapter.begin_reply(key)
                adapter.budget.interval = 60.0
                adapter.budget.note_write(key.channel)  # the next edit waits a minute for its turn
                await stream.append("half a reply")
                assert _running("discord-reply-")
                await host.unload_extension("adapters.discord")
                assert _running("discord-reply-") == []
                assert _running("inactivity-sweep") == []


async def test_runner_with_a_wrong_token_says_what_to_fix(tmp_path: Path) -> None:
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    from adapters.discord.runner import DiscordSetupError, run_discord
    from bot.app import open_bridge

    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    async with FakeDiscord() as fake:
        wrong = "not." + fake.token
        settings = _settings(
            tmp_path,
            discord_token=wrong,
            discord_api_url=fake.rest_base,
            discord_gateway_url=fake.gateway_url,
        )
        try:
            async with open_bridge(settings) as bridge:
                with pytest.raises(DiscordSetupError) as refused:
                    await asyncio.wait_for(run_discord(bridge, settings), 15.0)
        finally:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved
        assert "DISCORD_TOKEN" in str(refused.value) and "Reset Token" in str(refused.value)
        assert wrong not in str(refused.value)
