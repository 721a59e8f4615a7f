"""``await bridge.hand_over(...)`` in a bot that embeds the bridge (here a discord.py bot with the extension):
the same refusals and states as the HTTP API (the consent text first), and a handle whose ``wait_ended()`` gives
the summary however it ends: after the interview, or at once when the person says no or never answers."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from fake_discord import FakeDiscord, point_discord_py_at, running_client
from fake_slack import FakeSlack
from test_handoff_examples import answer_in_discord, example, settings

from adapters.slack.runner import make_client
from bot.app import open_bridge
from bot.core import ConversationKey, HandoffCode, HandoffError, StudyState
from bot.core.clock import ManualClock
from bot.core.store import AnalysisStatus, HandoffRecord, HandoffStatus, InterviewRecord, RecordStatus

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
                    assert (handle.status, handle.interview_id) == (HandoffStatus.CONSENT_PENDING, None)
                    assert await bridge.active_conversations("discord") == [], "nothing starts before I agree"
                    await answer_in_discord(fake, ADA, "agree")
                    record = await wait_for_status(bridge, handle.handoff_id, HandoffStatus.ACCEPTED)
                    with pytest.raises(HandoffError) as refused:
                        await bridge.hand_over("discord", GUILD, ADA, "default")
                    assert refused.value.code is HandoffCode.ALREADY_IN_INTERVIEW
                    assert refused.value.interview_id == record.interview_id is not None

                    await bridge.end(handle.key)
                    summary = await asyncio.wait_for(handle.wait_ended(), 10)
                    assert (summary.handoff_id, summary.interview_id) == (handle.handoff_id, record.interview_id)
                    assert summary.end_reason == "manual" and summary.turns == 0 and summary.duration_seconds >= 0
                    assert await handle.wait_ended() == summary, "an ended handoff answers at once"


async def wait_for_status(bridge: Any, handoff_id: str, status: HandoffStatus) -> HandoffRecord:
    """The handoff once it has ``status`` (the click's effects run in the background)."""
    for _ in range(200):
        record = await bridge.handoffs.get(handoff_id)
        if record.status is status:
            return record  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError(f"{handoff_id} is {record.status}, not {status}")


async def test_consent_given_before_starts_at_once_and_no_thanks_before_is_refused_at_once(tmp_path: Path) -> None:
    studies = tmp_path / "studies.yaml"
    studies.write_text(
        "studies:\n  - id: again\n    name: Again\n    once_per_respondent: false\n  - id: pulse\n    name: Pulse\n",
        encoding="utf-8",
    )
    code = example("handoff_discord")
    async with FakeDiscord() as fake:
        with point_discord_py_at(fake):
            fake.add_user(ADA, "ada")
            fake.add_guild(GUILD, "Pixel Forge", [ADA])
            options = {"studies_file": str(studies)}
            async with open_bridge(settings(tmp_path).model_copy(update=options)) as bridge:
                bot = code.SupportBot(bridge, "again")
                async with running_client(bot, fake):
                    first = await bridge.hand_over("discord", GUILD, ADA, "again")
                    await answer_in_discord(fake, ADA, "agree")
                    await wait_for_status(bridge, first.handoff_id, HandoffStatus.ACCEPTED)
                    await bridge.end(first.key)
                    assert (await asyncio.wait_for(first.wait_ended(), 10)).interviewed

                    second = await bridge.hand_over("discord", GUILD, ADA, "again")
                    assert second.status is HandoffStatus.ACCEPTED and second.interview_id is not None
                    (key,) = await bridge.active_conversations("discord")
                    assert (await bridge.current(key)).interview_id == second.interview_id  # type: ignore[union-attr]
                    await bridge.end(key)

                    pulse = await bridge.hand_over("discord", GUILD, ADA, "pulse")
                    await bridge.wait_until_idle(key)
                    await answer_in_discord(fake, ADA, "decline")
                    summary = await asyncio.wait_for(pulse.wait_ended(), 10)
                    assert (summary.end_reason, summary.interview_id, summary.turns) == ("declined", None, 0)
                    said = len(fake.bot_messages(fake.dm_channel_of(ADA) or ""))
                    with pytest.raises(HandoffError) as refused:
                        await bridge.hand_over("discord", GUILD, ADA, "pulse")
                    assert refused.value.code is HandoffCode.DECLINED
                    after = len(fake.bot_messages(fake.dm_channel_of(ADA) or ""))
                    assert after == said, "a person who said no is not asked again"


async def test_an_unanswered_consent_text_expires_and_the_handle_says_so(tmp_path: Path) -> None:
    clock = ManualClock()
    code = example("handoff_discord")
    async with FakeDiscord() as fake:
        with point_discord_py_at(fake):
            fake.add_user(ADA, "ada")
            fake.add_guild(GUILD, "Pixel Forge", [ADA])
            async with open_bridge(settings(tmp_path), clock=clock) as bridge:
                bot = code.SupportBot(bridge, "default")
                async with running_client(bot, fake):
                    bridge.handoffs.consent_timeout = 3600.0
                    handle = await bridge.hand_over(
                        "discord", GUILD, ADA, "default", callback_url="http://127.0.0.1:9/"
                    )
                    clock.advance(3599.0)
                    assert await bridge.handoffs.reconcile() == 0, "still waiting"
                    clock.advance(2.0)
                    assert await bridge.handoffs.reconcile() == 1
                    summary = await asyncio.wait_for(handle.wait_ended(), 10)
                    assert (summary.end_reason, summary.interview_id) == ("expired", None)
                    (callback,) = await bridge.store.claim_callbacks(clock.now(), 60.0)
                    assert json.loads(callback.body) == {
                        "handoff_id": handle.handoff_id, "event": "expired", "interview_id": None,
                    }  # fmt: skip
                    await answer_in_discord(fake, ADA, "agree")  # too late for the handoff: the person still may
                    await bridge.wait_until_idle(handle.key)
                    record = await bridge.handoffs.get(handle.handoff_id)
                    assert record.status is HandoffStatus.EXPIRED and record.interview_id is None


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
