"""`interview-bridge run` with a token Discord refuses, as a real process against the fake Discord."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from fake_discord import FakeDiscord


async def test_a_refused_token_is_reported_once_with_what_to_fix(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    prefixes = ("KOJI_", "DISCORD_", "SLACK_", "DATABASE_", "TOKEN_", "STUDIES_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env |= {
        "DISCORD_TOKEN": "MTIz.wrong.token",
        "DISCORD_API_URL": fake_discord.rest_base,
        "DISCORD_GATEWAY_URL": fake_discord.gateway_url,
        "DATABASE_PATH": str(tmp_path / "bot.db"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    async with asyncio.timeout(60):
        output = (await process.communicate())[0].decode()
    assert process.returncode == 2, output
    assert output.count("Discord refused DISCORD_TOKEN (401 Unauthorized)") == 1, output
    assert "Traceback" not in output
