"""The built-in server keeps its interviews: ``kill -9`` of the bot (no key) mid-reply, restart, carry on."""

from __future__ import annotations

import asyncio
import getpass
import os
import signal
import sys
from pathlib import Path

from bot.emulator import EmulatorConfig, run_emulator
from storage.sqlite import SQLiteStore
from tests.core.test_processes import _read_until


async def test_kill_9_mid_interview_then_restart_continues_with_no_gone(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOJI_")}
    env["LANG"] = "C.UTF-8"  # the chat speaks the terminal's language: English here
    env.update(DATABASE_PATH=str(tmp_path / "bot.db"), EMULATOR_TOKEN_RATE="25")
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "chat", cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert bot.stdin is not None and bot.stdout is not None
    seen = bytearray()
    await _read_until(bot.stdout, b"I agree", seen)  # the consent text: nothing is sent before agreeing
    bot.stdin.write(b"I agree\n")
    await bot.stdin.drain()
    await _read_until(bot.stdout, b"Interviewer: ", seen)
    await _read_until(bot.stdout, b"\n", seen, seen.index(b"Interviewer: "))
    first = "I joined through a friend, and the welcome channel confused me."
    bot.stdin.write(first.encode() + b"\n")
    await bot.stdin.drain()
    await _read_until(bot.stdout, b"You: " + first.encode(), seen)
    reply_at = len(seen)
    await _read_until(bot.stdout, b"Interviewer: ", seen, reply_at)
    reply_at = seen.index(b"Interviewer: ", reply_at) + len(b"Interviewer: ")
    while len(seen) < reply_at + 3:  # the reply is streaming: kill the whole bot, built-in server included
        seen.extend(await asyncio.wait_for(bot.stdout.read(1), 10))
    os.kill(bot.pid, signal.SIGKILL)
    await bot.wait()
    assert (tmp_path / "bot.emulator.db").exists(), "the built-in server's own file, next to DATABASE_PATH"

    restarted = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "chat", cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert restarted.stdin is not None and restarted.stdout is not None
    again = bytearray()
    await _read_until(restarted.stdout, b"continuing your interview", again)
    second = "Mostly the game jam channel, it is great."
    restarted.stdin.write(second.encode() + b"\n")
    await restarted.stdin.drain()
    await _read_until(restarted.stdout, b"You: " + second.encode(), again)
    await _read_until(restarted.stdout, b"Interviewer: ", again, again.index(b"You: " + second.encode()))
    restarted.stdin.close()
    _, err = await asyncio.wait_for(restarted.communicate(), 60)
    assert restarted.returncode == 0, err.decode()

    store = SQLiteStore(tmp_path / "bot.db")
    await store.open()
    try:
        [record] = await store.interviews_of_user("terminal", getpass.getuser())
    finally:
        await store.close()
    assert record.completion_reason != "gone"
    async with run_emulator(EmulatorConfig(database=tmp_path / "bot.emulator.db")) as emulator:
        said = [e["content"] for e in emulator.transcript(record.interview_id) if e["role"] == "respondent"]
    assert said == [first, second], "each message reached the interview once, across the crash"
