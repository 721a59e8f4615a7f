"""A bot process with the handoff API on, and a callback receiver that checks signatures (real HTTP both ways)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from discord_helpers import custom_ids
from fake_discord import FakeDiscord

from adapters.discord import ids
from bot.emulator import Emulator
from tests.serving import free_port
from tests.waiting import wait_until

TOKEN = "handoff-token-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
SECRET = "handoff-secret-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
GUILD = "5001"
STUDY = "default"


@dataclass
class Received:
    """One callback as it arrived."""

    body: bytes
    signature: str | None
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.body)
        return found

    @property
    def signed_right(self) -> bool:
        expected = "sha256=" + hmac.new(SECRET.encode(), self.body, hashlib.sha256).hexdigest()
        return self.signature is not None and hmac.compare_digest(self.signature, expected)


@dataclass
class Receiver:
    """A chatbot's callback endpoint: records every request; refuses the events in ``refuse`` with 503."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def delivered(self) -> list[dict[str, Any]]:
        """The events it accepted, in order."""
        return [r.event for r in self.received if r.answered == 200]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        event = json.loads(body).get("event")
        status = 503 if event in self.refuse else 200
        self.received.append(Received(body, request.headers.get("X-Interview-Bridge-Signature"), status))
        self.arrived.set()
        return web.json_response({"ok": status == 200}, status=status)


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    """A :class:`Receiver` listening on 127.0.0.1."""
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/callbacks", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    receiver.url = f"http://127.0.0.1:{port}/callbacks"
    try:
        yield receiver
    finally:
        await runner.cleanup()


API_KEY = "pk_test_handoff_0123456789abcdef"
ADA = "1001"


@dataclass
class HandoffWorld:
    """The fake Discord, the built-in server, and ``interview-bridge run`` processes with the handoff API on."""

    fake: FakeDiscord
    emulator: Emulator
    folder: Path
    port: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KOJI_API_URL": self.emulator.base_url,
            "KOJI_API_KEY": API_KEY,
            "DISCORD_TOKEN": self.fake.token,
            "DISCORD_API_URL": self.fake.rest_base,
            "DISCORD_GATEWAY_URL": self.fake.gateway_url,
            "DISCORD_EDIT_INTERVAL": "0.2",
            "DATABASE_PATH": str(self.folder / "bot.db"),
            "DATABASE_URL": "",
            "STUDIES_FILE": "",
            "HTTP_PORT": str(self.port),
            "HANDOFF_TOKEN": TOKEN,
            "HANDOFF_SECRET": SECRET,
            **self.extra_env,
        }

    async def start_bot(self) -> asyncio.subprocess.Process:
        """``interview-bridge run``; returns once its /readyz answers 200."""
        self.port = free_port()
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=self.env(), cwd=self.folder,
        )  # fmt: skip
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline:
            try:
                status, _, _ = await self.call("GET", "/readyz")
            except aiohttp.ClientConnectionError:
                status = 0
            if status == 200:
                return bot
            await asyncio.sleep(0.1)
        bot.kill()
        _, err = await bot.communicate()
        raise AssertionError(err.decode()[-2000:])

    def dm(self, user: str = ADA) -> list[dict[str, Any]]:
        channel = self.fake.dm_channel_of(user)
        return self.fake.bot_messages(channel) if channel else []

    async def consent(self, user: str = ADA, count: int = 1) -> dict[str, Any]:
        """Wait until ``count`` consent texts (with I agree / No thanks) are in the DM; the latest."""
        agree = ids.action_id("agree")
        await self.fake.wait_for(lambda: sum(agree in custom_ids(m) for m in self.dm(user)) >= count, timeout=30.0)
        return [m for m in self.dm(user) if agree in custom_ids(m)][-1]

    async def answer_consent(self, user: str = ADA, action: str = "agree") -> None:
        """Click **I agree** (``agree``) or **No thanks** (``decline``) under the latest consent text."""
        consent = await self.consent(user)
        clicked = await self.fake.click(user, consent["id"], ids.action_id(action))
        await clicked.wait_responded(10.0)

    async def status_becomes(self, handoff_id: str, status: str) -> dict[str, Any]:
        """Poll ``GET /v1/handoffs/{id}`` until the handoff has ``status``; its view."""
        deadline = time.monotonic() + 30.0
        while True:
            code, view, _ = await self.call("GET", f"/v1/handoffs/{handoff_id}")
            if code == 200 and view["status"] == status:
                found: dict[str, Any] = view
                return found
            assert time.monotonic() < deadline, view
            await asyncio.sleep(0.1)

    async def reply_done(self, count: int) -> None:
        """Wait until ``count`` finished replies (they carry "End interview") are in Ada's DM."""
        end = ids.action_id("end")
        await self.fake.wait_for(lambda: sum(end in custom_ids(m) for m in self.dm()) >= count, timeout=30.0)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def call(
        self, method: str, path: str, body: Any = None, *, token: str = TOKEN, headers: dict[str, str] | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        """One request to the bot's HTTP server: status, JSON body, headers."""
        sent = {"Authorization": f"Bearer {token}", **(headers or {})}
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, self.base + path, json=body, headers=sent) as response,
        ):
            found = await response.json() if response.content_type == "application/json" else await response.text()
            return response.status, found, dict(response.headers)

    async def hand_over(self, user: str, **fields: Any) -> tuple[int, Any, dict[str, str]]:
        body = {"platform": "discord", "workspace": GUILD, "user": user, "study": STUDY, **fields}
        headers = fields.pop("headers", None)
        body.pop("headers", None)
        return await self.call("POST", "/v1/handoffs", body, headers=headers)


async def until(receiver: Receiver, condition: Any, timeout: float = 90.0) -> None:  # noqa: ASYNC109
    """Wait until ``condition()`` is true, looked at again whenever a callback arrives."""
    await wait_until(condition, receiver.arrived, timeout, poll=0.5)


async def stop(bot: asyncio.subprocess.Process) -> tuple[int, str]:
    """SIGTERM; returns the exit code and the process's stderr."""
    bot.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(bot.communicate(), 60)
    assert bot.returncode is not None
    return bot.returncode, err.decode()
