"""`interview-bridge run` refusing a Discord setup before it serves (a token Discord refuses; REST only with no
database shared with a gateway), as a real process against the fake Discord; and what doctor says of the latter."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from fake_discord import FakeDiscord

from adapters.discord.runner import GATEWAY_ELSEWHERE
from bot.config import Settings
from bot.doctor import Finding, check_platforms


async def run_until_refused(fake_discord: FakeDiscord, tmp_path: Path, **settings: str) -> str:
    """``interview-bridge run`` against the fake Discord with ``settings``: what it printed before it exited 2."""
    prefixes = ("KOJI_", "DISCORD_", "SLACK_", "DATABASE_", "TOKEN_", "STUDIES_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env |= {
        "DISCORD_API_URL": fake_discord.rest_base,
        "DISCORD_GATEWAY_URL": fake_discord.gateway_url,
        "DATABASE_PATH": str(tmp_path / "bot.db"),
        **settings,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    async with asyncio.timeout(60):
        output = (await process.communicate())[0].decode()
    assert process.returncode == 2, output
    return output


async def test_a_refused_token_is_reported_once_with_what_to_fix(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    output = await run_until_refused(fake_discord, tmp_path, DISCORD_TOKEN="MTIz.wrong.token")
    assert output.count("Discord refused DISCORD_TOKEN (401 Unauthorized)") == 1, output
    assert "Traceback" not in output


async def test_rest_only_without_a_shared_database_is_refused_before_login(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    output = await run_until_refused(fake_discord, tmp_path, DISCORD_TOKEN=fake_discord.token, DISCORD_GATEWAY="false")
    assert output.count(f"interview-bridge: {GATEWAY_ELSEWHERE}") == 1, output
    assert not fake_discord.requests, "nobody logged in: alone, a REST-only instance would serve nothing"


def test_doctor_tells_what_a_rest_only_instance_needs(tmp_path: Path) -> None:
    def finding(**settings: str) -> Finding:
        settings |= {"discord_token": "MTIz.abc.def", "discord_gateway": "false"}
        checked = Settings(_env_file=None, **settings)  # type: ignore[call-arg]
        (rest_only,) = [f for f in check_platforms(checked) if "DISCORD_GATEWAY" in f.text]
        return rest_only

    alone = finding(database_path=str(tmp_path / "bot.db"))
    assert (alone.ok, alone.blocking) == (False, True)
    assert "needs DATABASE_URL" in alone.text
    shared = finding(database_url="postgresql://bridge@db:5432/bridge")
    assert (shared.ok, shared.blocking) == (True, False)
    assert "Exactly one instance on the same DATABASE_URL must open the gateway" in shared.text
