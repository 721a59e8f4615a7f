"""`interview-bridge run` with Slack, as a real process against the fake Slack: tokens are checked at start.

A refused token stops the start with what to fix (exit 2, said once, no traceback); a network outage is
retried quietly, one log line per attempt; HTTP mode on a port in use says so.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_slack import FakeSlack


def _env(tmp_path: Path, **settings: str) -> dict[str, str]:
    prefixes = ("KOJI_", "DISCORD_", "SLACK_", "DATABASE_", "TOKEN_", "STUDIES_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return env | {"DATABASE_PATH": str(tmp_path / "bot.db"), "LOG_LEVEL": "INFO"} | settings


async def _run(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    async with asyncio.timeout(60):
        output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("refusal", ["invalid_auth", "token_revoked"])
async def test_a_refused_bot_token_stops_the_start_with_what_to_fix(
    fake_slack: FakeSlack, tmp_path: Path, refusal: str
) -> None:
    fake_slack.remove_app(error=refusal)
    env = _env(tmp_path, SLACK_BOT_TOKEN=fake_slack.bot_token, SLACK_APP_TOKEN=fake_slack.app_token,
               SLACK_API_URL=fake_slack.api_url)  # fmt: skip
    status, output = await _run(env, tmp_path)
    assert status == 2, output
    assert f"Slack refused SLACK_BOT_TOKEN ({refusal})" in output and "OAuth & Permissions" in output
    assert output.count("Slack refused") == 1
    assert "Traceback" not in output
    assert "will be unused" not in output  # Bolt's stray remark about `client` and `token`


async def test_a_refused_app_token_names_it(fake_slack: FakeSlack, tmp_path: Path) -> None:
    env = _env(tmp_path, SLACK_BOT_TOKEN=fake_slack.bot_token, SLACK_APP_TOKEN="xapp-1-wrong",
               SLACK_API_URL=fake_slack.api_url)  # fmt: skip
    status, output = await _run(env, tmp_path)
    assert status == 2, output
    assert "Slack refused SLACK_APP_TOKEN" in output and "Traceback" not in output


async def test_http_mode_on_a_port_in_use_says_port_in_use(
    fake_slack: FakeSlack, tmp_path: Path, busy_port: int
) -> None:
    http_mode = {"SLACK_SIGNING_SECRET": fake_slack.signing_secret, "SLACK_HTTP_HOST": "127.0.0.1"}
    env = _env(tmp_path, SLACK_BOT_TOKEN=fake_slack.bot_token, SLACK_API_URL=fake_slack.api_url,
               SLACK_HTTP_PORT=str(busy_port), **http_mode)  # fmt: skip
    status, output = await _run(env, tmp_path)
    assert status == 2, output
    assert f"SLACK_HTTP_PORT={busy_port}: the port is in use" in output
    assert "cannot reach the platform" not in output and "Traceback" not in output
    assert [c.method for c in fake_slack.calls if c.method == "auth.test"], "the token was checked first"


async def test_a_network_outage_is_retried_quietly_one_line_per_attempt(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on: connections are refused
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    env = _env(tmp_path, SLACK_BOT_TOKEN="xoxb-1-2-3", SLACK_APP_TOKEN="xapp-1-2-3",
               SLACK_API_URL=f"http://127.0.0.1:{closed}/api/")  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(60):
            while sum("cannot reach Slack" in line for line in lines) < 2:
                line = (await process.stdout.readline()).decode()
                assert line, "".join(lines)
                lines.append(line)
    finally:
        process.terminate()
        rest, _ = await process.communicate()
    output = "".join(lines) + rest.decode()
    retries = [line for line in lines if "cannot reach Slack" in line]
    assert all("trying again in" in line for line in retries)
    assert "Traceback" not in output, output
    assert process.returncode is not None
