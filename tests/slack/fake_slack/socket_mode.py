"""Socket Mode: the WebSocket `apps.connections.open` points to, with hello, envelopes, acks and disconnects."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .delivery import Delivery

if TYPE_CHECKING:
    from .core import FakeSlackBase

ENVELOPE_TYPES = {"event": "events_api", "interactive": "interactive", "command": "slash_commands"}


class SocketModeServer:
    """Connected Socket Mode clients; envelopes go to the newest connection and wait for its ack."""

    def __init__(self, fake: FakeSlackBase) -> None:
        self.fake = fake
        self.connections: list[web.WebSocketResponse] = []
        self.connects = 0  # how many connections were ever opened (reconnects count)
        self.refused = 0  # connection attempts refused during an outage
        self._outage = False
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}

    @property
    def connected(self) -> bool:
        """Whether a Socket Mode client is connected."""
        return any(not ws.closed for ws in self.connections)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """One client connection: say hello, then read acks until it closes (refused during an outage)."""
        if self._outage:
            self.refused += 1
            self.fake.notify()
            return web.Response(status=503, text="Socket Mode is unavailable")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections.append(ws)
        self.connects += 1
        hello = {
            "type": "hello",
            "num_connections": len([c for c in self.connections if not c.closed]),
            "debug_info": {"host": "fake-slack", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.fake.app_id},
        }
        await ws.send_str(json.dumps(hello))
        self.fake.notify()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    ack = json.loads(msg.data)
                except json.JSONDecodeError:
                    continue
                future = self._acks.get(str(ack.get("envelope_id")))
                if future is not None and not future.done():
                    future.set_result(ack)
        finally:
            if ws in self.connections:
                self.connections.remove(ws)
            self.fake.notify()
        return ws

    async def send(self, delivery: Delivery, ack_timeout: float) -> Delivery:
        """Send one envelope; status 200 when acked within `ack_timeout`, else 0 with timed_out."""
        live = [c for c in self.connections if not c.closed]
        if not live:
            raise RuntimeError("no Socket Mode client connected")
        envelope_id = str(uuid.uuid4())
        message: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": delivery.payload,
            "type": ENVELOPE_TYPES.get(delivery.kind, delivery.kind),
            "accepts_response_payload": delivery.kind != "event",
        }
        if delivery.kind == "event":
            message["retry_attempt"] = delivery.retry_num or 0
            message["retry_reason"] = delivery.retry_reason or ""
        delivery.transport = "socket"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = future
        started = time.monotonic()
        try:
            await live[-1].send_str(json.dumps(message))
            ack = await asyncio.wait_for(future, ack_timeout)
            delivery.status = 200
            if "payload" in ack:
                delivery.response_body = json.dumps(ack["payload"])
        except TimeoutError:
            delivery.timed_out = True
            delivery.error = "timeout"
        finally:
            self._acks.pop(envelope_id, None)
            delivery.ack_seconds = time.monotonic() - started
        return delivery

    async def request_reconnect(self, reason: str = "refresh_requested") -> None:
        """Ask every client to reconnect (Slack's `disconnect` message); they open a new connection."""
        for ws in list(self.connections):
            if not ws.closed:
                await ws.send_str(
                    json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}})
                )

    async def drop_all(self) -> None:
        """Close every connection abruptly from the server side (a network blip)."""
        for ws in list(self.connections):
            await ws.close(code=1011, message=b"fake-slack dropped the connection")

    @contextlib.asynccontextmanager
    async def outage(self) -> AsyncIterator[None]:
        """Drop every connection and refuse new ones (HTTP 503 on the WebSocket upgrade) until the block ends."""
        self._outage = True
        try:
            await self.drop_all()
            yield
        finally:
            self._outage = False

    async def close_all(self) -> None:
        """Close every connection (on shutdown)."""
        for ws in list(self.connections):
            await ws.close()
