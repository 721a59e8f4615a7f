"""Broken settings from every command, as real processes: one plain report naming the variable and what it
accepts, exit status 2, never a traceback."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.core.keys import ConversationKey
from bot.core.store import InterviewRecord
from storage import SQLiteStore, generate_key

EVERY = ("run", "chat", "demo", "doctor", "emulator")
WITH_DATABASE = ("run", "chat", "doctor")  # the demo keeps its own database; the emulator needs none
WRITTEN_WITH = generate_key()


@dataclass(frozen=True)
class Case:
    """One broken setting: the environment (``{tmp}`` is the test's folder), who must refuse, what is said."""

    name: str
    env: dict[str, str]
    commands: tuple[str, ...]
    says: tuple[str, ...]  # the variable, and what it accepts
    args: tuple[str, ...] = field(default=())


CASES = [
    Case("rate limit not a number", {"KOJI_RATE_LIMIT": "abc"}, EVERY,
         ("KOJI_RATE_LIMIT", "whole number", "1 or more")),
    Case("rate limit zero", {"KOJI_RATE_LIMIT": "0"}, EVERY, ("KOJI_RATE_LIMIT", "1 or more")),
    Case("after completion bogus", {"AFTER_COMPLETION": "bogus"}, EVERY, ("AFTER_COMPLETION", "offer, auto or never")),
    Case("timeout negative", {"INACTIVITY_TIMEOUT": "-5"}, EVERY, ("INACTIVITY_TIMEOUT", "greater than 0")),
    Case("log level", {"LOG_LEVEL": "loud"}, EVERY, ("LOG_LEVEL", "DEBUG, INFO, WARNING")),
    Case("slack port out of range", {"SLACK_HTTP_PORT": "70000"}, EVERY, ("SLACK_HTTP_PORT", "1 to 65535")),
    Case("api url not a url", {"KOJI_API_URL": "koji.so/api", "KOJI_API_KEY": "pk_live_x"}, EVERY,
         ("KOJI_API_URL", "http:// or https://")),
    Case("api key without url", {"KOJI_API_KEY": "pk_live_0123456789abcdef"}, EVERY, ("KOJI_API_URL", "KOJI_API_KEY")),
    Case("encryption key not a key", {"TOKEN_ENCRYPTION_KEY": "secret123"}, EVERY,
         ("TOKEN_ENCRYPTION_KEY", "Fernet key", "--generate-key")),
    Case("database in a missing folder", {"DATABASE_PATH": "{tmp}/missing/bot.db"}, WITH_DATABASE,
         ("DATABASE_PATH", "does not exist")),
    Case("database is a folder", {"DATABASE_PATH": "{tmp}"}, WITH_DATABASE,
         ("DATABASE_PATH", "is a folder", "file path")),
    Case("database read-only", {"DATABASE_PATH": "/proc/interview-bridge.db"}, WITH_DATABASE,
         ("DATABASE_PATH", "read-only")),
    Case("database not sqlite", {"DATABASE_PATH": "{tmp}/notes.txt"}, WITH_DATABASE,
         ("DATABASE_PATH", "not an SQLite database")),
    Case("encryption key changed", {"DATABASE_PATH": "{tmp}/active.db", "TOKEN_ENCRYPTION_KEY": generate_key()},
         WITH_DATABASE, ("TOKEN_ENCRYPTION_KEY", "1 unfinished interview", "written with")),
    Case("emulator port out of range", {}, ("emulator",), ("--port", "0 to 65535"), args=("--port", "70000")),
    Case("emulator port in use", {}, ("emulator",), ("--port", "in use"), args=("--port", "{busy}")),
]  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a text file and a database holding one active interview, encrypted with another key."""
    tmp = tmp_path_factory.mktemp("settings")
    (tmp / "notes.txt").write_text("not a database, just notes\n" * 100)

    async def active_interview() -> None:
        store = SQLiteStore(tmp / "active.db", encryption_key=WRITTEN_WITH)
        await store.open()
        key = ConversationKey("terminal", "", "console", "ada")
        await store.create_interview(InterviewRecord(key=key, interview_id="iv-1", session_token="tok-1"))
        await store.close()

    asyncio.run(active_interview())
    return tmp


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _clean_env() -> dict[str, str]:
    prefixes = ("KOJI_", "DISCORD_", "SLACK_", "DATABASE_", "TOKEN_", "EMULATOR_", "STUDIES_", "LOG_", "AFTER_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


@pytest.mark.parametrize(
    ("case", "command"), [(c, cmd) for c in CASES for cmd in c.commands], ids=lambda v: getattr(v, "name", v)
)
def test_broken_settings_get_one_plain_report_and_exit_status_2(
    case: Case, command: str, folder: Path, busy_port: int
) -> None:
    env = _clean_env() | {"DATABASE_PATH": str(folder / "fine.db")}
    env |= {k: v.format(tmp=folder) for k, v in case.env.items()}
    args = [a.format(busy=busy_port) for a in case.args]
    result = subprocess.run(
        [sys.executable, "-m", "bot", command, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=folder,  # no .env of the developer's
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    for words in case.says:
        assert words in output, output
    assert output.count(case.says[0]) <= 3, "reported once"
    assert "\x1b" not in output
