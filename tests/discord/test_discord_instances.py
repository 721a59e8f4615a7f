"""Two ``interview-bridge run`` processes on one PostgreSQL and the fake Discord: the first opens the gateway, the
second (``DISCORD_GATEWAY=false``) logs in over REST only and never connects to the gateway.

The REST-only instance answers a handoff of Bob over the HTTP API: it posts the consent text in his DM. Bob's click
on **I agree** reaches the gateway's instance, which starts his interview. Ada writes to the bot herself. Then the
gateway's instance is killed with SIGKILL while it streams the reply to Bob's answer. From then on the REST-only
instance leads the sweeps: it takes Bob's turn over (looked up first, so his answer reaches the interview API once)
and finishes the reply in the very message the dead instance was streaming into, and it times Ada's interview out
with the closing message in her DM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from discord_helpers import custom_ids
from fake_discord import FakeDiscord
from test_discord_extension import agree

from adapters.discord import ids
from adapters.discord.text import PLACEHOLDER
from bot.emulator import Emulator, EmulatorConfig, run_emulator
from bot.emulator.interviews import InterviewRecord
from tests.serving import free_port

ADA, BOB, GUILD = "1001", "1002", "500"
HANDOFF_TOKEN = "handoff-token-of-the-rest-only-test-0123456789"
SILENCE = 15  # INACTIVITY_TIMEOUT: Ada's interview times out after the gateway's instance died
ANSWER = "I run the support team."
BRIEF = """
study: {id: rest-only, title: REST only}
interviewer:
  greeting: "Hi {name}! Thanks for joining."
  closing: "That's everything, thank you {name}!"
  acknowledgements: ["Thank you, that is really helpful to hear, and I appreciate all the detail you gave me."]
questions:
  - {id: role, type: open_ended, text: "What is your role?", max_follow_ups: 0}
  - {id: best, type: open_ended, text: "What helps you most?", max_follow_ups: 0}
"""
END = ids.action_id("end")


@dataclass
class Instance:
    """One ``interview-bridge run`` process: its HTTP server and its log."""

    process: asyncio.subprocess.Process
    port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One request to the instance's HTTP server (the handoff API's token sent): status and body."""
        headers = {"Authorization": f"Bearer {HANDOFF_TOKEN}"}
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, f"http://127.0.0.1:{self.port}{path}", json=body, headers=headers) as response,
        ):
            found = await response.json() if response.content_type == "application/json" else await response.text()
            return response.status, found


async def launch(name: str, fake: FakeDiscord, emulator: Emulator, pg_dsn: str, folder: Path, **env: str) -> Instance:
    """Start ``interview-bridge run`` as ``name``; returns once its readiness answers 200."""
    prefixes = ("KOJI_", "DISCORD_", "SLACK_", "DATABASE_", "TOKEN_", "STUDIES_", "HANDOFF_", "INACTIVITY_")
    settings = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    settings |= {
        "KOJI_API_URL": emulator.base_url,
        "KOJI_API_KEY": emulator.api_key,
        "KOJI_RATE_LIMIT": "100000",
        "DISCORD_TOKEN": fake.token,
        "DISCORD_API_URL": fake.rest_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DISCORD_EDIT_INTERVAL": "0.2",
        "DATABASE_URL": pg_dsn,
        "INSTANCE_ID": name,
        "HTTP_PORT": str(free_port()),
        "HANDOFF_TOKEN": HANDOFF_TOKEN,
        "INACTIVITY_TIMEOUT": str(SILENCE),
        "INACTIVITY_NUDGE": "0",
        "LOG_LEVEL": "INFO",
        **env,
    }
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=settings, cwd=folder,
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
        )  # fmt: skip
    instance = Instance(process, int(settings["HTTP_PORT"]), log)
    deadline = time.monotonic() + 60.0
    while True:
        try:
            status, _ = await instance.call("GET", "/readyz")
        except aiohttp.ClientConnectionError:
            status = 0
        if status == 200:
            return instance
        if process.returncode is not None or time.monotonic() > deadline:
            raise AssertionError(f"{name} did not become ready:\n{instance.output()[-3000:]}")
        await asyncio.sleep(0.1)


def interview_of(emulator: Emulator, user: str) -> InterviewRecord:
    """The user's one interview on the built-in server."""
    (found,) = [r for r in emulator.book.interviews.values() if r.respondent.get("external_id") == user]
    return found


def said(record: InterviewRecord, role: str) -> list[str]:
    return [str(entry["content"]) for entry in record.transcript if entry["role"] == role]


def finished_replies(fake: FakeDiscord, dm: str, after: int = 0) -> list[dict[str, Any]]:
    """The bot's finished replies in the DM (they carry "End interview") newer than message ``after``."""
    return [m for m in fake.bot_messages(dm) if int(m["id"]) > after and END in custom_ids(m)]


@pytest.mark.timeout(300)
async def test_a_rest_only_instance_serves_handoffs_and_takes_over_from_the_dead_gateway(
    fake_discord: FakeDiscord, pg_dsn: str, tmp_path: Path
) -> None:
    fake = fake_discord
    fake.add_user(ADA, "ada")
    fake.add_user(BOB, "bob")
    fake.add_guild(GUILD, "makers", [ADA, BOB])
    brief = tmp_path / "brief.yaml"
    brief.write_text(BRIEF, encoding="utf-8")
    async with run_emulator(EmulatorConfig(brief=brief, token_rate=400.0, rate_limit=100_000)) as emulator:
        gateway = await launch("gateway", fake, emulator, pg_dsn, tmp_path)
        rest = await launch("rest-only", fake, emulator, pg_dsn, tmp_path, DISCORD_GATEWAY="false")
        try:
            _, ready = await rest.call("GET", "/readyz")  # ready once Discord took the token over REST
            assert (ready["ready"], ready["checks"].get("discord-rest"), "discord" in ready["checks"]) == (
                True, "ok", False,
            ), ready  # fmt: skip

            # a handoff answered by the REST-only instance: the consent text goes out over REST
            status, answer = await rest.call(
                "POST", "/v1/handoffs", {"platform": "discord", "workspace": GUILD, "user": BOB, "study": "default"}
            )
            assert (status, answer["status"]) == (202, "consent_pending"), answer
            bob_dm = fake.dm_channel_of(BOB)
            assert bob_dm is not None
            await agree(fake, BOB, bob_dm)  # the click reaches the gateway's instance, which starts the interview
            await fake.wait_for(lambda: bool(finished_replies(fake, bob_dm)), 30.0)

            await fake.user_sends_dm(ADA, "hi")  # Ada's DM arrives on the gateway (shard 0)
            ada_dm = fake.dm_channel_of(ADA)
            assert ada_dm is not None
            await agree(fake, ADA, ada_dm)
            await fake.wait_for(lambda: bool(finished_replies(fake, ada_dm)), 30.0)

            # Bob answers; the gateway's instance dies while it streams the reply
            emulator.faults.token_rate = 2.0
            sent = await fake.user_sends_dm(BOB, ANSWER)

            def streaming() -> list[dict[str, Any]]:
                newer = [m for m in fake.bot_messages(bob_dm) if int(m["id"]) > int(sent["id"])]
                return [m for m in newer if m["content"].strip() not in ("", PLACEHOLDER)]

            await fake.wait_for(lambda: bool(streaming()), 30.0)
            cut_reply = streaming()[0]
            os.kill(gateway.process.pid, signal.SIGKILL)
            await gateway.process.wait()
            emulator.faults.token_rate = 400.0
            assert not finished_replies(fake, bob_dm, int(sent["id"])), "the reply was cut"
            assert "✅" not in " ".join(m["content"] for m in fake.bot_messages(ada_dm)), "Ada's clock still runs"

            # the REST-only instance leads, takes the turn over and finishes the reply where it was cut
            await fake.wait_for(lambda: bool(finished_replies(fake, bob_dm, int(sent["id"]))), 90.0)
            bob = interview_of(emulator, BOB)
            assert said(bob, "respondent") == [ANSWER], "sent to the interview API once"
            newer = [m for m in fake.bot_messages(bob_dm) if int(m["id"]) > int(sent["id"])]
            assert [m["id"] for m in newer] == [cut_reply["id"]], "one message: the cut one, finished"
            assert newer[0]["content"] == said(bob, "interviewer")[-1]

            # it runs the sweeps: Ada's silence ends her interview, with the closing message in her DM
            await fake.wait_for(lambda: fake.bot_messages(ada_dm)[-1]["content"].startswith("✅"), 60.0)
            ada = interview_of(emulator, ADA)
            await fake.wait_for(lambda: ada.status == "completed", 10.0)
            log = rest.output()
            assert f"taking over the turn in flight of interview={bob.id}" in log
            assert f"interview completed interview={ada.id} reason=timeout" in log
            status, view = await rest.call("GET", f"/v1/handoffs/{answer['handoff_id']}")
            assert (status, view["interview_id"]) == (200, bob.id), view  # accepted (completed once Bob is silent)
            assert view["status"] in ("accepted", "completed"), view
            assert fake.gateway.stats.identifies == 1, "the REST-only instance never opened the gateway"
            _, metrics = await rest.call("GET", "/metrics")
            links = [line for line in metrics.splitlines() if line.startswith("interview_bridge_platform_connected{")]
            assert links == ['interview_bridge_platform_connected{link="discord-rest"} 1.0'], links
        finally:
            for instance in (gateway, rest):
                if instance.process.returncode is None:
                    instance.process.send_signal(signal.SIGTERM)
            for instance in (gateway, rest):
                try:
                    await asyncio.wait_for(instance.process.wait(), 30)
                except TimeoutError:
                    instance.process.kill()
                    await instance.process.wait()
    assert rest.process.returncode == 0, rest.output()[-3000:]
    assert " ERROR " not in rest.output(), rest.output()[-3000:]
    fake.assert_no_spec_errors()
