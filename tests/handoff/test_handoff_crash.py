"""A bot killed with SIGKILL while it starts a handed-over interview: a retry with the same Idempotency-Key answers
the original handoff, started, never ``409 already_in_interview`` or a second handoff.

The fault is real: the built-in server is slowed down (its ``latency`` fault) so the start call is in flight when
the ``interview-bridge run`` process is killed.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from fake_discord import serving as discord_serving
from handoff_helpers import ADA, API_KEY, GUILD, HandoffWorld, stop

from bot.emulator import EmulatorConfig, run_emulator

SLOW = 6.0  # seconds the built-in server waits before answering anything: the start call is in flight meanwhile
KILL_AFTER = 2.0


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HandoffWorld]:
    config = EmulatorConfig(api_key=API_KEY, token_rate=400.0, rate_limit=1000)
    async with discord_serving() as fake, run_emulator(config) as emulator:
        studies = tmp_path / "studies.yaml"
        studies.write_text(
            "studies:\n  - id: default\n    name: Feedback\n    once_per_respondent: false\n"
            f"    api: {{url: '{emulator.base_url}', key_env: KOJI_API_KEY}}\n",
            "utf-8",
        )
        fake.add_user(ADA, "ada")
        fake.add_guild(GUILD, "makers", [ADA])
        yield HandoffWorld(fake, emulator, tmp_path, extra_env={"STUDIES_FILE": str(studies)})


async def kill_9(bot: asyncio.subprocess.Process) -> None:
    os.kill(bot.pid, signal.SIGKILL)
    await bot.wait()


@pytest.mark.timeout(300)
async def test_a_retry_after_a_crash_mid_start_answers_the_original_handoff_started(world: HandoffWorld) -> None:
    # 1. killed while the start that I agree triggered is in flight
    bot = await world.start_bot()
    first = {"Idempotency-Key": "ticket-1"}
    status, answer, _ = await world.hand_over(ADA, headers=first)
    assert (status, answer["status"]) == (202, "consent_pending")
    handoff_id = answer["handoff_id"]
    world.emulator.faults.latency = SLOW
    await world.answer_consent(ADA, "agree")
    await asyncio.sleep(KILL_AFTER)
    await kill_9(bot)
    world.emulator.faults.latency = 0.0

    bot = await world.start_bot()
    try:
        status, answer, _ = await world.hand_over(ADA, headers=first)
        assert status == 202, answer
        assert (answer["handoff_id"], answer["status"]) == (handoff_id, "accepted"), answer
        assert answer["interview_id"] in world.emulator.book.interviews
        await world.reply_done(1)  # the interviewer's opening is in Ada's DM
        status, view, _ = await world.call("DELETE", f"/v1/handoffs/{handoff_id}")
        assert (status, view["end_reason"]) == (200, "manual")

        # 2. Ada agreed to the study before: the next handoff starts at once, and the bot dies during that start
        world.emulator.faults.latency = SLOW
        second = {"Idempotency-Key": "ticket-2"}
        cut = asyncio.create_task(world.hand_over(ADA, headers=second))
        await asyncio.sleep(KILL_AFTER)
        await kill_9(bot)
        with pytest.raises(aiohttp.ClientError):
            await cut  # the caller never heard back
        world.emulator.faults.latency = 0.0
        bot = await world.start_bot()

        status, answer, _ = await world.hand_over(ADA, headers=second)
        assert status == 202, answer  # not 409 already_in_interview, not a second handoff
        assert answer["status"] == "accepted" and answer["interview_id"], answer
        again = await world.hand_over(ADA, headers=second)
        assert (again[0], again[1]["handoff_id"]) == (202, answer["handoff_id"]), "one handoff for the key"
        status, view, _ = await world.call("GET", f"/v1/handoffs/{answer['handoff_id']}")
        assert (status, view["status"], view["interview_id"]) == (200, "accepted", answer["interview_id"])
    finally:
        world.emulator.faults.latency = 0.0
        code, err = await stop(bot)
    assert code == 0, err[-2000:]
