"""The examples a chatbot developer copies, run as they are: a discord.py bot and a Bolt app that hand a user
over with a button (the user agrees to the consent text in their DM, or says no thanks) and take them back, and a
``curl`` session against the HTTP API (tests/handoff/test_handoff_http.py)."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from discord_helpers import custom_ids, labels
from fake_discord import FakeDiscord, point_discord_py_at, running_client
from fake_slack import FakeSlack

from adapters.discord import ids
from adapters.slack.runner import make_client
from bot.app import open_bridge
from bot.config import Settings
from bot.core import Bridge
from tests.serving import serving

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GUILD, ADA = "7100", "7101"
ALICE = "U0ALICE01"


def example(name: str) -> ModuleType:
    """``examples/<name>.py`` as a module (the file is not part of a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def answer_in_discord(fake: FakeDiscord, user: str, action: str) -> None:
    """The member clicks ``agree`` (I agree) or ``decline`` (No thanks) under the consent text in their DM."""
    button = ids.action_id(action)
    await fake.wait_for(lambda: any(button in custom_ids(m) for m in fake.bot_messages(fake.dm_channel_of(user) or "")))
    consent = next(m for m in fake.bot_messages(fake.dm_channel_of(user) or "") if button in custom_ids(m))
    clicked = await fake.click(user, consent["id"], button)
    await clicked.wait_responded(10.0)


async def answer_in_slack(fake: FakeSlack, user: str, action: str) -> None:
    """The user clicks ``ib:act:agree`` or ``ib:act:decline`` under the consent text in their DM."""
    dm = fake.dm_channel_of(user)

    def consent() -> dict[str, Any] | None:
        return next((m for m in fake.bot_messages(dm) if action in str(m.get("blocks"))), None)

    await fake.wait_for(lambda: consent() is not None)
    message = consent()
    assert message is not None
    assert await fake.click(user, dm, message["ts"], action) == 200


async def started(bridge: Any, platform: str) -> list[Any]:
    """The platform's active conversations, once there is one (the start follows the click on I agree)."""
    deadline = time.monotonic() + 10.0
    while not (found := await bridge.active_conversations(platform)):
        assert time.monotonic() < deadline, "no interview started"
        await asyncio.sleep(0.05)
    return list(found)


def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_path=str(tmp_path / "bridge.db"),
        emulator_token_rate=4000.0,
        discord_edit_interval=0.05,
    )


@dataclass
class DiscordOffer:
    """The discord.py example running against the fake Discord, its offer clicked by Ada."""

    fake: FakeDiscord
    bridge: Bridge
    bot: Any
    channel: str  # where the offer was posted
    clicked: Any  # Ada's click on it


@asynccontextmanager
async def discord_offer_clicked(tmp_path: Path) -> AsyncIterator[DiscordOffer]:
    """The discord.py example serving the fake Discord; Ada has clicked its offer in the guild's channel."""
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
                    yield DiscordOffer(fake, bridge, bot, channel, clicked)
            fake.assert_no_spec_errors()


async def test_the_discord_example_hands_a_member_over_with_a_button_and_welcomes_them_back(tmp_path: Path) -> None:
    async with discord_offer_clicked(tmp_path) as world:
        fake, bridge, channel, clicked = world.fake, world.bridge, world.channel, world.clicked
        await fake.wait_for(lambda: bool(clicked.followups), 10.0)
        assert "the interview starts once you agree" in clicked.all_texts()[-1] and clicked.ephemeral
        assert await bridge.active_conversations("discord") == [], "nothing starts before I agree"
        dm = fake.dm_channel_of(ADA) or ""
        await fake.wait_for(lambda: bool(fake.bot_messages(dm)), 10.0)
        # the handing-over bot waits for this answer: no "Remind me later" (it would leave the handoff pending)
        assert labels(fake.bot_messages(dm)[-1]) == ["I agree", "No thanks"]
        await answer_in_discord(fake, ADA, "agree")
        (key,) = await started(bridge, "discord")
        status = await bridge.current(key)
        assert status is not None and key.user == ADA

        await bridge.end(key)  # the interview ends (here: the research team ends it)
        welcome = f"Welcome back <@{ADA}>"
        await fake.wait_for(lambda: any(welcome in m["content"] for m in fake.bot_messages(channel)), 10.0)
        (summary,) = world.bot.taken_back
        assert summary.interview_id == status.interview_id and summary.end_reason == "manual"


@asynccontextmanager
async def bolt_offer_clicked(tmp_path: Path) -> AsyncIterator[tuple[FakeSlack, Bridge, Any, str]]:
    """The Bolt example serving the fake Slack; Alice has clicked its offer in her DM (which is yielded)."""
    code = example("handoff_slack")
    async with FakeSlack(signing_secret="example-signing-secret") as fake, open_bridge(settings(tmp_path)) as bridge:
        fake.add_user(ALICE, "alice")
        support = code.SupportApp(bridge, make_client(fake.bot_token, fake.api_url), fake.signing_secret, "default")
        async with serving(support.app.web_app()) as url:
            fake.set_events_url(url + "/slack/events")
            dm = fake.dm_channel_of(ALICE)
            offer = await support.post_offer(dm)
            assert await fake.click(ALICE, dm, offer, code.OFFER) == 200
            yield fake, bridge, support, dm


async def test_the_bolt_example_hands_a_user_over_with_a_button_and_welcomes_them_back(tmp_path: Path) -> None:
    async with bolt_offer_clicked(tmp_path) as (fake, bridge, support, dm):
        await fake.wait_for(lambda: any("once you agree" in m.get("text", "") for m in fake.messages(dm)))
        assert await bridge.active_conversations("slack") == [], "nothing starts before I agree"
        await answer_in_slack(fake, ALICE, "ib:act:agree")
        (key,) = await started(bridge, "slack")
        status = await bridge.current(key)
        assert status is not None and key.user == ALICE and key.channel == dm
        await bridge.wait_until_idle(key)

        await bridge.end(key)  # the interview ends (here: the research team ends it)
        await fake.wait_for(lambda: any("Welcome back" in m.get("text", "") for m in fake.messages(dm)))
        (summary,) = support.taken_back
        assert summary.interview_id == status.interview_id and summary.end_reason == "manual"


async def test_the_discord_example_takes_a_member_back_who_says_no_thanks(tmp_path: Path) -> None:
    async with discord_offer_clicked(tmp_path) as world:
        await answer_in_discord(world.fake, ADA, "decline")
        await world.fake.wait_for(
            lambda: any("still here" in m["content"] for m in world.fake.bot_messages(world.channel))
        )
        (summary,) = world.bot.taken_back
        assert summary.end_reason == "declined" and not summary.interviewed
        assert await world.bridge.interviews_of("discord", ADA) == [], "nothing was started"


async def test_the_bolt_example_takes_a_user_back_who_says_no_thanks(tmp_path: Path) -> None:
    async with bolt_offer_clicked(tmp_path) as (fake, bridge, support, dm):
        await answer_in_slack(fake, ALICE, "ib:act:decline")
        await fake.wait_for(lambda: any("still here" in m.get("text", "") for m in fake.messages(dm)))
        (summary,) = support.taken_back
        assert summary.end_reason == "declined" and summary.interview_id is None
        assert await bridge.interviews_of("slack", ALICE) == []
