"""The examples a chatbot developer copies, run as they are: a discord.py bot and a Bolt app that hand a user
over with a button and take them back, and a ``curl`` session against the HTTP API."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from fake_discord import FakeDiscord, point_discord_py_at, running_client
from fake_slack import FakeSlack

from adapters.slack.runner import make_client
from bot.app import open_bridge
from bot.config import Settings
from tests.serving import serving

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GUILD, ADA = "7100", "7101"


def example(name: str) -> ModuleType:
    """``examples/<name>.py`` as a module (the file is not part of a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_path=str(tmp_path / "bridge.db"),
        emulator_token_rate=4000.0,
        discord_edit_interval=0.05,
    )


async def test_the_discord_example_hands_a_member_over_with_a_button_and_welcomes_them_back(tmp_path: Path) -> None:
    code = example("handoff_discord")
    async with FakeDiscord() as fake:
        with point_discord_py_at(fake):
            fake.add_user(ADA, "ada")
            fake.add_guild(GUILD, "Pixel Forge", [ADA])
            channel = fake.guild_channel_of(GUILD)
            async with open_bridge(settings(tmp_path)) as bridge:
                bot = code.SupportBot(bridge, "default")
                async with running_client(bot, fake):
                    offer = await bot.post_offer(int(channel))
                    clicked = await fake.click(ADA, str(offer.id), code.OFFER)
                    await fake.wait_for(lambda: bool(clicked.followups), 10.0)
                    assert "waiting in your DMs" in clicked.all_texts()[-1] and clicked.ephemeral
                    dm = fake.dm_channel_of(ADA)
                    assert dm is not None
                    await fake.wait_for(lambda: len(fake.bot_messages(dm)) >= 1, 10.0)
                    (key,) = await bridge.active_conversations("discord")
                    status = await bridge.current(key)
                    assert status is not None and key.user == ADA

                    await bridge.end(key)  # the interview ends (here: the research team ends it)
                    welcome = f"Welcome back <@{ADA}>"
                    await fake.wait_for(lambda: any(welcome in m["content"] for m in fake.bot_messages(channel)), 10.0)
                    (summary,) = bot.taken_back
                    assert summary.interview_id == status.interview_id and summary.end_reason == "manual"
            fake.assert_no_spec_errors()


async def test_the_bolt_example_hands_a_user_over_with_a_button_and_welcomes_them_back(tmp_path: Path) -> None:
    code = example("handoff_slack")
    alice = "U0ALICE01"
    async with FakeSlack(signing_secret="example-signing-secret") as fake, open_bridge(settings(tmp_path)) as bridge:
        fake.add_user(alice, "alice")
        support = code.SupportApp(bridge, make_client(fake.bot_token, fake.api_url), fake.signing_secret, "default")
        async with serving(support.app.web_app()) as url:
            fake.set_events_url(url + "/slack/events")
            dm = fake.dm_channel_of(alice)
            offer = await support.post_offer(dm)
            assert await fake.click(alice, dm, offer, code.OFFER) == 200
            await fake.wait_for(lambda: any("waiting in a thread" in m.get("text", "") for m in fake.messages(dm)))
            (key,) = await bridge.active_conversations("slack")
            status = await bridge.current(key)
            assert status is not None and key.user == alice and key.channel == dm
            await bridge.wait_until_idle(key)

            await bridge.end(key)  # the interview ends (here: the research team ends it)
            await fake.wait_for(lambda: any("Welcome back" in m.get("text", "") for m in fake.messages(dm)))
            (summary,) = support.taken_back
            assert summary.interview_id == status.interview_id and summary.end_reason == "manual"
