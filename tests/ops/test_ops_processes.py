"""A real ``interview-bridge run`` process against the fake Discord and the built-in server (in this process):
SIGTERM mid-turn stops it cleanly within SHUTDOWN_GRACE, and ``interview-bridge backup`` copies its database
while it runs."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from discord_helpers import custom_ids
from fake_discord import FakeDiscord
from fake_discord import serving as discord_serving
from ops_helpers import until_status

from adapters.discord import ids
from bot.api.client import InterviewClient
from bot.emulator import Emulator, EmulatorConfig, run_emulator
from storage.sqlite import SQLiteStore
from tests.serving import free_port

API_KEY = "pk_test_ops_processes_0123456789abcdef"
ADA = "1001"
GRACE = 8.0
ANSWER = "I joined through a friend, and the welcome channel confused me at first."


@dataclass
class World:
    fake: FakeDiscord
    emulator: Emulator
    folder: Path
    port: int = 0

    @property
    def db(self) -> Path:
        return self.folder / "bot.db"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KOJI_API_URL": self.emulator.base_url,
            "KOJI_API_KEY": API_KEY,
            "DISCORD_TOKEN": self.fake.token,
            "DISCORD_API_URL": self.fake.rest_base,
            "DISCORD_GATEWAY_URL": self.fake.gateway_url,
            "DISCORD_EDIT_INTERVAL": "0.2",
            "DATABASE_PATH": str(self.db),
            "DATABASE_URL": "",
            "STUDIES_FILE": "",
            "HTTP_PORT": str(self.port),
            "SHUTDOWN_GRACE": str(GRACE),
        }

    async def start_bot(self) -> asyncio.subprocess.Process:
        """``interview-bridge run``; returns once its /readyz says the gateway is READY."""
        self.port = free_port()
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=self.env(), cwd=self.folder,
        )  # fmt: skip
        try:
            await until_status(f"http://127.0.0.1:{self.port}/readyz", 200, timeout=30.0)
        except TimeoutError:
            bot.kill()
            _, err = await bot.communicate()
            raise AssertionError(err.decode()[-2000:]) from None
        return bot

    def dm(self) -> list[dict[str, Any]]:
        channel = self.fake.dm_channel_of(ADA)
        return self.fake.bot_messages(channel) if channel else []

    async def agree(self) -> None:
        """Click **I agree** once the consent text is in the DM (the interview starts then)."""
        agree = ids.action_id("agree")
        await self.fake.wait_for(lambda: any(agree in custom_ids(m) for m in self.dm()), timeout=30.0)
        consent = next(m for m in self.dm() if agree in custom_ids(m))
        clicked = await self.fake.click(ADA, consent["id"], agree)
        await clicked.wait_responded(10.0)

    async def reply_done(self, count: int) -> None:
        """Wait until ``count`` finished replies (they carry "End interview") are in the DM."""
        end = ids.action_id("end")
        await self.fake.wait_for(lambda: sum(end in custom_ids(m) for m in self.dm()) >= count, timeout=30.0)

    async def interview(self) -> tuple[str, list[str], list[str]]:
        """The one interview's id, and what the API holds: respondent messages, interviewer messages."""
        store = SQLiteStore(self.db)
        await store.open()
        try:
            (record,) = await store.interviews_of_user("discord", ADA)
        finally:
            await store.close()
        async with InterviewClient(self.emulator.base_url, API_KEY) as client:
            details = await client.get(record.interview_id)
        said = [e.content for e in details.transcript if e.role == "respondent"]
        asked = [e.content for e in details.transcript if e.role == "interviewer"]
        return record.interview_id, said, asked


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    # slow enough that a reply outlasts the DM's first 5 s of writes (Discord's 5 per 5 s: the consent text, the
    # opening and the reply's first edits spend them) and is seen growing after that
    config = EmulatorConfig(api_key=API_KEY, token_rate=5.0, rate_limit=1000)
    async with discord_serving() as fake, run_emulator(config) as emulator:
        fake.add_user(ADA, "ada")
        yield World(fake, emulator, tmp_path)


async def stop(bot: asyncio.subprocess.Process) -> tuple[int, float, str]:
    """SIGTERM; returns the exit code, the seconds until the process ended, and its stderr."""
    started = time.monotonic()
    bot.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(bot.communicate(), 60)
    assert bot.returncode is not None
    return bot.returncode, time.monotonic() - started, err.decode()


async def mid_reply(world: World) -> dict[str, Any]:
    """Send the answer; return once the interviewer's reply to it has started to show (and is not finished)."""
    await world.fake.user_sends_dm(ADA, ANSWER)
    end = ids.action_id("end")

    def streaming() -> dict[str, Any] | None:
        last = world.dm()[-1]
        growing = len(world.dm()) >= 2 and len(last["content"].strip("… \n")) >= 3 and end not in custom_ids(last)
        return last if growing else None

    await world.fake.wait_for(lambda: streaming() is not None, timeout=30.0)
    found = streaming()
    assert found is not None
    return found


async def whole_reply_shown(world: World) -> tuple[list[str], list[str]]:
    """Wait until the API holds the reply and a DM message shows all of it; returns (said, asked)."""
    async with asyncio.timeout(30):
        while True:
            _, said, asked = await world.interview()
            if len(asked) >= 2 and any(asked[1] in m["content"] for m in world.dm()):
                return said, asked
            await asyncio.sleep(0.1)


async def test_sigterm_mid_turn_exits_0_in_grace_and_the_restart_shows_the_reply_whole(world: World) -> None:
    bot = await world.start_bot()
    await world.fake.user_sends_dm(ADA, "hi")
    await world.agree()
    await world.reply_done(1)
    cut = await mid_reply(world)

    code, took, err = await stop(bot)
    assert code == 0, err[-2000:]
    assert took < GRACE, f"the stop took {took:.1f} s"
    assert "SIGTERM received" in err and "Traceback" not in err
    cut_now = world.fake.message(cut["id"])
    assert cut_now is not None and "restarting" in cut_now["content"].lower(), err[-3000:]  # the respondent was told

    restarted = await world.start_bot()
    try:
        said, asked = await whole_reply_shown(world)
    finally:
        code, _, err = await stop(restarted)
    assert code == 0, err[-2000:]
    assert said == [ANSWER], "sent once, never twice"
    assert len(asked) == 2  # the greeting and the one reply: nothing doubled on the API's side
    whole = [m for m in world.dm() if asked[1] in m["content"]]
    assert len(whole) == 1, "the cut reply is shown whole once after the restart"
    assert int(whole[0]["id"]) >= int(cut["id"])  # the continuation, after the cut part


async def test_a_backup_taken_during_a_running_interview_is_whole(world: World) -> None:
    bot = await world.start_bot()
    try:
        await world.fake.user_sends_dm(ADA, "hi")
        await world.agree()
        await world.reply_done(1)
        await mid_reply(world)  # the bot is writing: a turn in flight, a reply streaming
        world.emulator.faults.token_rate = 0.2  # and goes on streaming however slowly the backup process starts
        target = world.folder / "backups" / "during-interview.db"
        target.parent.mkdir()
        backup = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "backup", str(target),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=world.env(), cwd=world.folder,
        )  # fmt: skip
        out, err = await asyncio.wait_for(backup.communicate(), 60)
        assert backup.returncode == 0, err.decode()
        assert "integrity ok" in out.decode()
        again = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "backup", str(target),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=world.env(), cwd=world.folder,
        )  # fmt: skip
        _, err = await asyncio.wait_for(again.communicate(), 60)
        assert again.returncode == 1 and "exists already" in err.decode()  # never overwritten by accident
    finally:
        world.emulator.faults.token_rate = 0.0
        code, _, err_text = await stop(bot)
    assert code == 0, err_text[-2000:]

    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert not list(target.parent.glob("*.partial")) and not (target.parent / f"{target.name}-wal").exists()
    store = SQLiteStore(target)
    await store.open()
    try:
        (record,) = await store.interviews_of_user("discord", ADA)
        assert await store.turn_in_flight(record.interview_id) is not None  # taken mid-turn, consistently
        assert [line.role for line in await store.transcript(record.interview_id)][:1] == ["interviewer"]
    finally:
        await store.close()
