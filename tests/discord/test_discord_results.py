"""Results on Discord: the summary embed in the results channel; /interview results|export|admin for admins
(Manage Server or a configured role), answered privately with the charts and the CSV as attachments."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from discord_helpers import ADA, BOB, GUILD, MOD, Stack, discord_stack

from adapters.discord.adapter import dm_key
from bot.core.events import ForgetMe
from bot.core.ports import ResultsCard
from bot.studies_file import parse_studies
from tests.studies.steps import finish_interview
from tests.waiting import wait_until

MANAGE_GUILD = 1 << 5


def _studies(channel: str) -> str:
    return f"""\
admins: {{discord_roles: ["777"]}}
studies:
  - id: onboarding
    name: Joining Pixel Forge
    results: {{discord_channel: "{channel}"}}
  - id: pulse
    name: Team pulse
    anonymous: true
    min_responses: 3
    results: {{discord_channel: "{channel}"}}
"""


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with discord_stack(tmp_path) as built:
        built.studies = parse_studies(_studies(built.fake.guild_channel_of(GUILD)))
        guild = built.fake.world.guilds[GUILD]  # Bob holds the researchers role (777) the file names as admins
        guild["_role_members"]["777"] = {BOB}
        guild["_role_names"]["777"] = "researchers"
        await built.shut_down()
        await built.boot()
        yield built


async def _analysed(stack: Stack, study: str, users: list[str]) -> None:
    for n, user in enumerate(users, start=1):
        channel, _ = stack.fake.world.open_dm(user)
        interview_id = await finish_interview(stack.core, None, dm_key(int(channel.id), int(user)), study, n)
        assert stack.emulator is not None
        emulator = stack.emulator
        done = lambda i=interview_id, e=emulator: e.interview(i).analysis_status == "completed"  # noqa: E731
        await wait_until(done, asyncio.Event(), 10.0, 0.02)
        stack.clock.advance(15)
        assert await stack.core.results.poll_due() == 1


def _command(name: str, **options: str) -> list[dict[str, Any]]:
    return [{"type": 1, "name": name, "options": [{"type": 3, "name": k, "value": v} for k, v in options.items()]}]


async def test_the_results_channel_gets_an_embed_per_analysed_interview(stack: Stack) -> None:
    await _analysed(stack, "onboarding", [ADA])
    channel = stack.fake.guild_channel_of(GUILD)
    await stack.fake.wait_for(lambda: bool(stack.fake.bot_messages(channel)))
    [card] = stack.fake.bot_messages(channel)
    [embed] = card["embeds"]
    assert embed["title"].startswith("Joining Pixel Forge: interview with")
    names = [field["name"] for field in embed["fields"]]
    assert "Quality" in names and "Ended" in names and "Do you visit daily?" in names
    stack.fake.assert_no_spec_errors()


async def test_admins_get_counts_and_one_chart_per_structured_question_privately(stack: Stack) -> None:
    await _analysed(stack, "onboarding", [ADA, MOD])  # Bob keeps his DMs closed
    refused = await stack.fake.slash_command(ADA, "interview", _command("results", study="onboarding"), guild_id=GUILD)
    await stack.fake.wait_for(lambda: bool(refused.followups), timeout=10.0)
    assert "Only the study's admins" in refused.all_texts()[-1]
    stack.fake.grant_permissions(GUILD, MOD, MANAGE_GUILD)
    asked = await stack.fake.slash_command(MOD, "interview", _command("results", study="onb"), guild_id=GUILD)
    await stack.fake.wait_for(lambda: bool(asked.followups), timeout=30.0)
    [digest] = asked.followups
    assert digest["ephemeral"] and digest["embeds"][0]["title"] == "Joining Pixel Forge: 2 interviews analysed"
    charts = [a["filename"] for a in digest["attachments"]]
    assert len(charts) == 6 and all(name.endswith(".png") for name in charts)  # yes/no, scale, 2 single, multi, rank
    exported = await stack.fake.slash_command(MOD, "interview", _command("export", study="onboarding"), guild_id=GUILD)
    await stack.fake.wait_for(lambda: bool(exported.followups), timeout=10.0)
    [sent] = exported.followups
    assert sent["ephemeral"] and [a["filename"] for a in sent["attachments"]] == ["onboarding-interviews.csv"]
    stack.fake.assert_no_spec_errors()


async def test_a_configured_role_may_pause_a_study(stack: Stack) -> None:
    paused = await stack.fake.slash_command(
        BOB, "interview", _command("admin", study="pulse", action="pause"), guild_id=GUILD
    )
    await stack.fake.wait_for(lambda: bool(paused.followups), timeout=10.0)
    [answer] = paused.followups
    assert "“Team pulse” is paused" in answer["content"] and answer["embeds"][0]["title"] == "Team pulse"
    pulse = stack.core.studies.get("pulse")
    assert pulse is not None and (await stack.core.gate.state(pulse))[0].value == "paused"
    stack.fake.assert_no_spec_errors()


async def test_forget_me_deletes_the_card_that_names_the_member_and_says_so(stack: Stack) -> None:
    await _analysed(stack, "onboarding", [ADA, MOD])
    channel = stack.fake.guild_channel_of(GUILD)
    await stack.fake.wait_for(lambda: len(stack.fake.bot_messages(channel)) == 2)
    ada_card, mod_card = stack.fake.bot_messages(channel)
    dm, _ = stack.fake.world.open_dm(ADA)
    done = await stack.core.handle(ForgetMe(dm_key(int(dm.id), int(ADA)), confirmed=True, actor=ADA))
    assert "The summary card of your interview that the team had been shown was deleted too." in (done.message or "")
    assert [m["id"] for m in stack.fake.bot_messages(channel)] == [mod_card["id"]], "only Ada's card goes"
    assert ada_card["id"] in [m["id"] for m in stack.fake.deleted_messages]
    stack.fake.assert_no_spec_errors()


async def test_a_card_a_moderator_deleted_first_counts_as_gone(stack: Stack) -> None:
    await _analysed(stack, "onboarding", [ADA])
    channel = stack.fake.guild_channel_of(GUILD)
    await stack.fake.wait_for(lambda: bool(stack.fake.bot_messages(channel)))
    [card] = stack.fake.bot_messages(channel)
    await stack.fake.delete_message(card["id"])
    dm, _ = stack.fake.world.open_dm(ADA)
    done = await stack.core.handle(ForgetMe(dm_key(int(dm.id), int(ADA)), confirmed=True, actor=ADA))
    assert "was deleted too" in (done.message or "") and await stack.core.privacy.cards.waiting() == 0


async def test_a_results_channel_takes_more_cards_than_its_write_window_holds(stack: Stack) -> None:
    """Each card posted or deleted counts in the channel's write window until Discord answered, then for the
    window: the channel's 21st write (20 per second here) waits a moment, never for ever."""
    assert stack.bot is not None
    cog: Any = stack.bot.get_cog("Interview")
    adapter = cog.adapter
    channel = stack.fake.guild_channel_of(GUILD)
    posted = [await asyncio.wait_for(adapter.post_results(channel, ResultsCard(f"card {n}")), 30) for n in range(25)]
    assert len(stack.fake.bot_messages(channel)) == 25
    for message in posted:
        assert await asyncio.wait_for(adapter.delete_results(channel, message), 30)
    assert stack.fake.bot_messages(channel) == []
