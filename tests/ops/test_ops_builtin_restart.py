"""``interview-bridge run`` without a key (the built-in server in-process) against the fake Discord: ``kill -9``
mid-reply, restart, and the interview goes on — the built-in server kept it in its own file, so no "gone"."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_discord import serving as discord_serving
from test_ops_processes import ADA, ANSWER, World, mid_reply, stop

from bot.app import builtin_server_database
from bot.emulator import EmulatorConfig, run_emulator
from storage.sqlite import SQLiteStore

NEXT = "Mostly the game jam channel."


class KeylessWorld(World):
    """The same world, but the bot is given no API: it runs the built-in server itself."""

    def env(self) -> dict[str, str]:
        env = super().env()
        env.update(
            KOJI_API_URL="", KOJI_API_KEY="", EMULATOR_TOKEN_RATE="5"
        )  # empty is unset; slow: see test_ops_processes
        return env


@pytest.fixture
async def keyless(tmp_path: Path) -> AsyncIterator[KeylessWorld]:
    async with discord_serving() as fake, run_emulator(EmulatorConfig()) as unused:  # World wants one; the bot won't
        fake.add_user(ADA, "ada")
        yield KeylessWorld(fake, unused, tmp_path)


async def _record_of(world: World) -> tuple[str, str | None, str]:
    store = SQLiteStore(world.db)
    await store.open()
    try:
        (record,) = await store.interviews_of_user("discord", ADA)
    finally:
        await store.close()
    return record.interview_id, record.completion_reason, record.status.value


async def test_kill_9_of_run_without_a_key_then_the_interview_continues(keyless: KeylessWorld) -> None:
    world = keyless
    bot = await world.start_bot()
    await world.fake.user_sends_dm(ADA, "hi")
    await world.agree()
    await world.reply_done(1)
    await mid_reply(world)  # the answer went in, the reply is streaming
    os.kill(bot.pid, signal.SIGKILL)
    await bot.wait()
    assert builtin_server_database(str(world.db)).exists()

    restarted = await world.start_bot()
    try:
        await world.reply_done(2)  # the cut reply is shown whole after the restart
        await world.fake.user_sends_dm(ADA, NEXT)
        await world.reply_done(3)  # and the interview takes the next answer
    finally:
        code, _, err = await stop(restarted)
    assert code == 0, err[-2000:]
    interview_id, reason, status = await _record_of(world)
    assert reason != "gone" and status == "active"
    async with run_emulator(EmulatorConfig(database=builtin_server_database(str(world.db)))) as builtin:
        said = [e["content"] for e in builtin.transcript(interview_id) if e["role"] == "respondent"]
    assert said == [ANSWER, NEXT], "each answer reached the interview once, across the crash"


def test_the_builtin_file_lives_next_to_the_database(tmp_path: Path) -> None:
    assert builtin_server_database(str(tmp_path / "bot.db")) == tmp_path / "bot.emulator.db"
    assert builtin_server_database("interview-bridge.db").name == "interview-bridge.emulator.db"
