"""``await bridge.hand_over(...)`` in a bot that embeds the bridge (here a discord.py bot with the extension):
the same refusals as the HTTP API, and a handle whose ``wait_ended()`` gives the summary however it ends."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fake_discord import FakeDiscord, point_discord_py_at, running_client
from test_handoff_examples import example, settings

from bot.app import open_bridge
from bot.core import HandoffCode, HandoffError, StudyState

GUILD, ADA, OUTSIDER = "7200", "7201", "7299"


async def test_hand_over_refuses_clearly_and_wait_ended_gives_the_summary(tmp_path: Path) -> None:
    code = example("handoff_discord")
    async with FakeDiscord() as fake:
        with point_discord_py_at(fake):
            fake.add_user(ADA, "ada")
            fake.add_user(OUTSIDER, "outsider")
            fake.add_guild(GUILD, "Pixel Forge", [ADA])
            async with open_bridge(settings(tmp_path)) as bridge:
                bot = code.SupportBot(bridge, "default")
                async with running_client(bot, fake):
                    with pytest.raises(HandoffError) as refused:
                        await bridge.hand_over("discord", GUILD, OUTSIDER, "default")
                    assert refused.value.code is HandoffCode.USER_UNREACHABLE  # not in the guild
                    with pytest.raises(HandoffError) as refused:
                        await bridge.hand_over("discord", GUILD, ADA, "default", context={"big": "x" * 4100})
                    assert refused.value.code is HandoffCode.INVALID_REQUEST
                    with pytest.raises(HandoffError) as refused:
                        await bridge.hand_over("slack", "T1", "U1", "default")  # no Slack here
                    assert refused.value.code is HandoffCode.INVALID_REQUEST

                    study = bridge.studies.default
                    await bridge.gate.set_state(study, StudyState.CLOSED)
                    with pytest.raises(HandoffError) as refused:
                        await bridge.hand_over("discord", GUILD, ADA, "default")
                    assert refused.value.code is HandoffCode.STUDY_CLOSED and "closed" in refused.value.message
                    assert fake.dm_channel_of(ADA) is None or not fake.bot_messages(fake.dm_channel_of(ADA) or "")
                    await bridge.gate.set_state(study, StudyState.OPEN)

                    handle = await bridge.hand_over("discord", GUILD, ADA, "default", context={"plan": "team"})
                    with pytest.raises(HandoffError) as refused:
                        await bridge.hand_over("discord", GUILD, ADA, "default")
                    assert refused.value.code is HandoffCode.ALREADY_IN_INTERVIEW
                    assert refused.value.interview_id == handle.interview_id

                    await bridge.end(handle.key)
                    summary = await asyncio.wait_for(handle.wait_ended(), 10)
                    assert (summary.handoff_id, summary.interview_id) == (handle.handoff_id, handle.interview_id)
                    assert summary.end_reason == "manual" and summary.turns == 0 and summary.duration_seconds >= 0
                    assert await handle.wait_ended() == summary, "an ended handoff answers at once"
