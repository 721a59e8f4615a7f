"""Real processes: the terminal chat over a pipe, and a bot killed with SIGKILL mid-turn, then restarted."""

from __future__ import annotations

import asyncio
import getpass
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.api.client import InterviewClient
from storage.locations import is_postgres, store_at

API_KEY = "pk_test_processes_0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _read_until(stream: asyncio.StreamReader, marker: bytes, seen: bytearray, start: int = 0) -> None:
    """Read ``stream`` into ``seen`` until ``marker`` appears after ``start`` (20 s at most)."""
    async with asyncio.timeout(20):
        while marker not in seen[start:]:
            chunk = await stream.read(1)
            if not chunk:
                raise AssertionError(f"output ended before {marker!r}: {seen.decode(errors='replace')[-500:]}")
            seen.extend(chunk)


@pytest.fixture
async def emulator_process() -> AsyncIterator[str]:
    """The built-in server as its own process (it must outlive the bot we kill)."""
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "emulator", "--port", str(port), "--api-key", API_KEY, "--token-rate", "25",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    seen = bytearray()
    await _read_until(process.stdout, b"127.0.0.1", seen)
    try:
        yield f"http://127.0.0.1:{port}/api/v1"
    finally:
        process.terminate()
        await process.wait()


def _bot_env(api_url: str, db: Path | str) -> dict[str, str]:
    """The bot's environment; ``db`` is an SQLite file or a ``postgresql://`` URL."""
    env = {**os.environ, "KOJI_API_URL": api_url, "KOJI_API_KEY": API_KEY, "LANG": "C.UTF-8"}  # English chat
    env.pop("DATABASE_URL", None)
    env.pop("KOJI_LOCALE", None)
    if is_postgres(str(db)):  # the restarted bot is the same instance: it resumes its own turns at once
        return {**env, "DATABASE_URL": str(db), "INSTANCE_ID": "bot-under-test"}
    return {**env, "DATABASE_PATH": str(db)}


async def test_kill_9_mid_turn_then_restart_loses_and_doubles_nothing(emulator_process: str, database: str) -> None:
    """On both backends: the bot's data in an SQLite file or in PostgreSQL (DATABASE_URL)."""
    env = _bot_env(emulator_process, database)
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "chat",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env=env,
    )  # fmt: skip
    assert bot.stdin is not None and bot.stdout is not None
    seen = bytearray()
    await _read_until(bot.stdout, b"I agree", seen)  # the consent text: nothing is sent before agreeing
    bot.stdin.write(b"I agree\n")
    await bot.stdin.drain()
    await _read_until(bot.stdout, b"Interviewer: ", seen)
    await _read_until(bot.stdout, b"\n", seen, seen.index(b"Interviewer: "))  # the opening message, whole
    message = "I joined through a friend, and the welcome channel confused me."
    bot.stdin.write(message.encode() + b"\n")
    await bot.stdin.drain()
    await _read_until(bot.stdout, b"You: " + message.encode(), seen)
    reply_at = len(seen)
    await _read_until(bot.stdout, b"Interviewer: ", seen, reply_at)
    reply_at = seen.index(b"Interviewer: ", reply_at) + len(b"Interviewer: ")
    while len(seen) < reply_at + 3:  # a few characters of the reply have streamed: kill it mid-turn
        seen.extend(await asyncio.wait_for(bot.stdout.read(1), 10))
    os.kill(bot.pid, signal.SIGKILL)
    await bot.wait()
    assert bot.returncode == -signal.SIGKILL

    restarted = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "chat",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, err = await asyncio.wait_for(restarted.communicate(), 60)
    assert restarted.returncode == 0, err.decode()
    text = out.decode()
    assert "continuing your interview" in text

    async with InterviewClient(emulator_process, API_KEY) as client:
        interview_id = await _only_interview(database)
        details = None
        for _ in range(50):
            details = await client.get(interview_id)
            if details.status == "completed":
                break
            await asyncio.sleep(0.1)
        assert details is not None and details.status == "completed"
        respondent = [e.content for e in details.transcript if e.role == "respondent"]
        interviewer = [e.content for e in details.transcript if e.role == "interviewer"]
    assert respondent == [message], "sent once, never twice"
    assert len(interviewer) == 2
    assert interviewer[1] in text, "the reply cut by the crash is shown whole after the restart"


async def _only_interview(db: str) -> str:
    store = store_at(db)
    await store.open()
    try:
        records = await store.interviews_of_user("terminal", getpass.getuser())
    finally:
        await store.close()
    assert len(records) == 1
    return records[0].interview_id


async def test_doctor_checks_the_configured_api_and_key(emulator_process: str, tmp_path: Path) -> None:
    async def doctor(key: str) -> tuple[int, str]:
        env = {**_bot_env(emulator_process, tmp_path / "bot.db"), "KOJI_API_KEY": key}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "doctor", stdout=asyncio.subprocess.PIPE, env=env
        )
        out, _ = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode is not None
        return process.returncode, out.decode()

    status, out = await doctor(API_KEY)
    assert status == 0 and "reachable, and the key is accepted" in out
    status, out = await doctor("pk_live_wrong")
    assert status == 1 and "the API key was refused" in out
    assert API_KEY not in out and "pk_live_wrong" not in out
    assert not (tmp_path / "bot.db").exists()
