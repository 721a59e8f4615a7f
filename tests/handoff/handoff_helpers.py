"""A bot process with the handoff API on, and a callback receiver that checks signatures (real HTTP both ways)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from test_ops_processes import World

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


class HandoffWorld(World):
    """The bot of the operations tests with the handoff API on."""

    def env(self) -> dict[str, str]:
        env = super().env()
        env.update(HANDOFF_TOKEN=TOKEN, HANDOFF_SECRET=SECRET)
        return env

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
