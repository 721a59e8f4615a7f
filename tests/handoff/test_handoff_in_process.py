"""``await bridge.hand_over(...)`` in a bot that embeds the bridge (here a discord.py bot with the extension):
the same refusals as the HTTP API, and a handle whose ``wait_ended()`` gives the summary however it ends."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from fake_discord import FakeDiscord, point_discord_py_at, running_client
from fake_slack import FakeSlack
from test_handoff_examples import example, settings

from adapters.slack.runner import make_client
from bot.app import open_bridge
from bot.core import ConversationKey, HandoffCode, HandoffError, StudyState
from bot.core.store import AnalysisStatus, HandoffRecord, InterviewRecord, RecordStatus

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


async def test_the_analysed_callback_of_an_anonymous_study_says_nothing_of_the_person(tmp_path: Path) -> None:
    studies = tmp_path / "studies.yaml"
    studies.write_text(
        "studies:\n  - id: named\n    name: Named\n  - id: pulse\n    name: Pulse\n    anonymous: true\n",
        encoding="utf-8",
    )
    analysis = {"quality_score": 4, "themes": [{"name": "onboarding", "quotes": ["I'm Ada from Leeds"]}]}
    options = {"studies_file": str(studies)}
    async with open_bridge(settings(tmp_path).model_copy(update=options)) as bridge:
        store, now = bridge.store, 1_000.0
        for n, study in enumerate(("named", "pulse"), start=1):
            key = ConversationKey("discord", "", f"dm{n}", f"u{n}")
            ended = InterviewRecord(key, f"iv-{n}", "token", RecordStatus.COMPLETED, study, created_at=now)
            ended.completion_reason, ended.completed_at, ended.turns_sent = "natural", now + 90, 4
            await store.create_interview(ended)
            await store.settle_analysis(ended.interview_id, study, AnalysisStatus.COMPLETED, analysis, now)
            record = HandoffRecord(f"ho_{n}", key, study, ended.interview_id, callback_url="http://127.0.0.1:9/cb")
            await store.create_handoff(record)
        assert await bridge.handoffs.reconcile() == 4, "each one completed, then analysed"
        sent: dict[tuple[str, str], dict[str, Any]] = {}
        for _ in range(3):  # completed waits for accepted (none here), then analysed for completed
            for callback in await store.claim_callbacks(bridge.handoffs.now() + 1, lease=60.0):
                sent[(callback.handoff_id, callback.event)] = json.loads(callback.body)
                await store.callback_done(callback.handoff_id, callback.event, now, delivered=True)
    assert sent[("ho_1", "completed")] == {
        "handoff_id": "ho_1", "event": "completed", "interview_id": "iv-1",
        "end_reason": "natural", "turns": 4, "duration_seconds": 90.0,
    }  # fmt: skip
    assert sent[("ho_1", "analysed")]["quality"] == 4 and sent[("ho_1", "analysed")]["themes"] == ["onboarding"]
    assert sent[("ho_2", "analysed")] == {
        "handoff_id": "ho_2", "event": "analysed", "interview_id": "iv-2",
        "analysis_status": "completed", "anonymous": True,
    }  # fmt: skip


async def test_a_slack_user_who_is_not_in_the_workspace_is_unreachable_and_nothing_is_posted(tmp_path: Path) -> None:
    code = example("handoff_slack")
    async with FakeSlack(signing_secret="example-signing-secret") as fake, open_bridge(settings(tmp_path)) as bridge:
        fake.add_user("U0ALICE01", "alice")
        code.SupportApp(bridge, make_client(fake.bot_token, fake.api_url), fake.signing_secret, "default")
        team = fake.workspace().team_id
        with pytest.raises(HandoffError) as refused:
            await bridge.hand_over("slack", team, "U0NOBODY1", "default")
        assert refused.value.code is HandoffCode.USER_UNREACHABLE
        with pytest.raises(HandoffError) as refused:
            await bridge.hand_over("slack", "T0ELSEWHERE", "U0ALICE01", "default")  # another workspace's id
        assert refused.value.code is HandoffCode.USER_UNREACHABLE
        assert fake.bot_messages(fake.dm_channel_of("U0ALICE01")) == []
        assert await bridge.active_conversations("slack") == []
