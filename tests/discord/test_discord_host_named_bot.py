"""A host bot whose script is named ``bot.py`` (run as ``python bot.py``) loads the extension as ``adapters.discord``.

Python puts the script's folder first on the search path, so the host's ``bot.py`` would hide our ``bot``
package. These run real processes against the fake Discord: the extension must work, or (a host ``storage``
package already imported) fail with one sentence that says what to rename.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from fake_discord import FakeDiscord

ADA, GUILD = "3001", "700"

HOST_SCRIPT = """
import asyncio, os, sys

import discord
import yarl
from discord.ext import commands

{before}
discord.http.Route.BASE = os.environ["HOST_REST_BASE"]
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["HOST_GATEWAY"])


class Host(commands.Bot):
    async def setup_hook(self) -> None:
        try:
            await self.load_extension("adapters.discord")
        except commands.ExtensionFailed as error:
            print(f"LOAD FAILED: {{error.original}}", flush=True)
            sys.exit(3)
        print("LOADED", flush=True)


bot = Host(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.05)
bot.run(os.environ["HOST_TOKEN"], log_handler=None)
"""


async def _run_host(fake: FakeDiscord, folder: Path, before: str = "") -> asyncio.subprocess.Process:
    (folder / "bot.py").write_text(HOST_SCRIPT.format(before=before))
    env = {
        **os.environ,
        "HOST_REST_BASE": fake.rest_base,
        "HOST_GATEWAY": fake.gateway_url,
        "HOST_TOKEN": fake.token,
        "DATABASE_PATH": str(folder / "bridge.db"),
        "EMULATOR_TOKEN_RATE": "4000",
        "DISCORD_EDIT_INTERVAL": "0.05",
        "PYTHONPATH": "",  # as a host runs it: nothing but the script's folder and the installed packages
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "bot.py", cwd=folder, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def _output_until(process: asyncio.subprocess.Process, marker: str, seen: list[str]) -> None:
    assert process.stdout is not None
    async with asyncio.timeout(30):
        while not any(marker in line for line in seen):
            line = await process.stdout.readline()
            if not line:
                raise AssertionError(f"the host ended before {marker!r}:\n{''.join(seen)[-3000:]}")
            seen.append(line.decode(errors="replace"))


async def test_a_host_script_named_bot_py_loads_the_extension(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        fake.add_user(ADA, "ada")
        fake.add_guild(GUILD, "Pixel Forge", [ADA])
        host = await _run_host(fake, tmp_path)
        seen: list[str] = []
        try:
            await _output_until(host, "LOADED", seen)
            await fake.wait_until_identified()
            await fake.user_sends_dm(ADA, "hi")
            dm = fake.dm_channel_of(ADA)
            assert dm is not None
            await fake.wait_for(lambda: bool(fake.bot_messages(dm)), 30.0)  # the interviewer answers in the DM
        finally:
            host.terminate()
            await host.wait()
        assert not any("Traceback" in line for line in seen), "".join(seen)


async def test_a_host_storage_package_gets_one_sentence_saying_what_to_rename(tmp_path: Path) -> None:
    (tmp_path / "storage").mkdir()
    (tmp_path / "storage" / "__init__.py").write_text('"""The host bot\'s own storage."""\n')
    async with FakeDiscord() as fake:
        host = await _run_host(fake, tmp_path, before="import storage  # the host's own package, used by its cogs")
        seen: list[str] = []
        try:
            await _output_until(host, "LOAD FAILED", seen)
        finally:
            await asyncio.wait_for(host.wait(), 30)
        failed = next(line for line in seen if "LOAD FAILED" in line)
        assert "your project's 'storage'" in failed and "rename yours (for example to 'my_storage')" in failed
        assert str(tmp_path / "storage") in failed
        assert host.returncode == 3
