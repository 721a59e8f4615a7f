"""Choosing a study on Discord: autocomplete of /interview start, a select in a plain DM, polite refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from discord_helpers import ADA, GUILD, MOD, Stack, discord_stack

from bot.studies_file import parse_studies

STUDIES = """\
studies:
  - id: onboarding
    name: Joining Pixel Forge
    consent: Your answers go to the community team.
  - id: pulse
    name: Team pulse
  - id: archive
    name: Last year's survey
    closes_at: "2020-01-31T00:00:00Z"
"""


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with discord_stack(tmp_path, studies=parse_studies(STUDIES)) as built:
        yield built


def _start(study: str, *, focused: bool = False) -> list[dict[str, object]]:
    option: dict[str, object] = {"type": 3, "name": "study", "value": study}
    if focused:
        option["focused"] = True
    return [{"type": 1, "name": "start", "options": [option]}]


async def test_autocomplete_offers_the_open_studies_that_match(stack: Stack) -> None:
    typed = await stack.fake.autocomplete(ADA, "interview", _start("", focused=True), guild_id=GUILD)
    await typed.wait_responded(5.0)
    assert typed.response is not None and typed.response["type"] == 8
    assert typed.response["data"]["choices"] == [
        {"name": "Joining Pixel Forge (onboarding)", "value": "onboarding"},
        {"name": "Team pulse (pulse)", "value": "pulse"},
    ], "the closed study is not offered"
    narrowed = await stack.fake.autocomplete(ADA, "interview", _start("PULS", focused=True), guild_id=GUILD)
    await narrowed.wait_responded(5.0)
    assert narrowed.response is not None
    assert [c["value"] for c in narrowed.response["data"]["choices"]] == ["pulse"]
    stack.fake.assert_no_spec_errors()


async def test_a_plain_dm_gets_a_select_of_open_studies_and_the_pick_starts_it(stack: Stack) -> None:
    await stack.fake.user_sends_dm(ADA, "hi")
    await stack.said(ADA, "Several studies are open")
    [choice] = [m for m in stack.dm(ADA) if "Several studies" in m["content"]]
    [select] = [c for row in choice["components"] for c in row["components"]]
    assert select["type"] == 3 and [o["value"] for o in select["options"]] == ["onboarding", "pulse"]
    assert [o["label"] for o in select["options"]] == ["Joining Pixel Forge", "Team pulse"]
    picked = await stack.click(ADA, choice, select["custom_id"], values=["onboarding"])
    await stack.said(ADA, "Your answers go to the community team.")  # the consent text comes first
    await stack.agree(ADA)
    await stack.said(ADA, "What brought you")
    assert picked.ephemeral
    record = await stack.core.status(stack.key(ADA))
    assert record is not None and record.study == "onboarding"
    stack.fake.assert_no_spec_errors()


async def test_once_per_respondent_and_a_closed_study_refuse_politely(stack: Stack) -> None:
    started = await stack.fake.slash_command(ADA, "interview", _start("pulse"), guild_id=GUILD)
    await stack.agree(ADA)
    await stack.said(ADA, "What brought you")
    await stack.fake.wait_for(lambda: bool(started.followups), timeout=10.0)
    stop = await stack.fake.slash_command(ADA, "interview", [{"type": 1, "name": "stop", "options": []}])
    await stack.fake.wait_for(lambda: bool(stop.followups), timeout=10.0)
    again = await stack.fake.slash_command(ADA, "interview", _start("pulse"), guild_id=GUILD)
    await stack.fake.wait_for(lambda: bool(again.followups), timeout=10.0)
    assert again.ephemeral and "already taken part in “Team pulse”" in again.all_texts()[-1]
    closed = await stack.fake.slash_command(MOD, "interview", _start("archive"), guild_id=GUILD)
    await stack.fake.wait_for(lambda: bool(closed.followups), timeout=10.0)
    assert "closed on 2020-01-31 00:00 UTC" in closed.all_texts()[-1]
    assert await stack.store.interviews_of_user("discord", MOD) == []
    stack.fake.assert_no_spec_errors()


async def test_a_study_for_a_role_admits_members_with_it_in_dms(tmp_path: Path) -> None:
    studies = 'studies:\n  - id: club\n    name: Members club\n    who: {discord_roles: ["888"]}\n'
    async with discord_stack(tmp_path, studies=parse_studies(studies)) as stack:
        guild = stack.fake.world.guilds[GUILD]
        guild["_role_members"]["888"] = {MOD}
        guild["_role_names"]["888"] = "club"
        await stack.fake.user_sends_dm(ADA, "hi")
        await stack.said(ADA, "isn't open to you")
        assert await stack.store.interviews_of_user("discord", ADA) == []
        await stack.fake.user_sends_dm(MOD, "hi")
        await stack.agree(MOD)
        await stack.said(MOD, "What brought you")
        [record] = await stack.store.interviews_of_user("discord", MOD)
        assert record.study == "club"


async def test_the_start_button_command_autocompletes_its_study(stack: Stack) -> None:
    typed = await stack.fake.autocomplete(
        MOD, "interview-button", [{"type": 3, "name": "study", "value": "pu", "focused": True}], guild_id=GUILD
    )
    await typed.wait_responded(5.0)
    assert typed.response is not None and typed.response["type"] == 8
    assert typed.response["data"]["choices"] == [{"name": "Team pulse (pulse)", "value": "pulse"}]
    posted = await stack.fake.slash_command(
        MOD, "interview-button", [{"type": 3, "name": "study", "value": "pulse"}], guild_id=GUILD
    )
    await posted.wait_responded(5.0)
    button = posted.original_message()
    assert button is not None
    clicked = await stack.fake.click(ADA, button["id"], "ib:go:pulse")
    await stack.agree(ADA)
    await stack.said(ADA, "What brought you")
    await clicked.wait_responded(5.0)
    record = await stack.core.status(stack.key(ADA))
    assert record is not None
    [stored] = await stack.store.interviews_of_user("discord", ADA)
    assert stored.study == "pulse", "the button carries its study"
