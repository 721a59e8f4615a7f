"""Socket Mode: the WebSockets `apps.connections.open` points to, with hello, envelopes, acks and disconnects.

As Slack does, an app may hold up to :data:`MAX_CONNECTIONS` connections at once (several processes, or one
process reconnecting); a further one is told ``disconnect`` with reason ``too_many_websockets`` and closed. Each
envelope goes to one live connection: Slack does not promise which, and the fake spreads them round-robin. An
event envelope that is not acknowledged within the ack timeout (on any connection: an SDK acknowledges on its
current one) is, when the fake retries events (``auto_retries``), sent again with ``retry_attempt`` to another
live connection if there is one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .delivery import Delivery

if TYPE_CHECKING:
    from .core import FakeSlackBase

ENVELOPE_TYPES = {"event": "events_api", "interactive": "interactive", "command": "slash_commands"}
MAX_CONNECTIONS = 10
"""Concurrent Socket Mode connections Slack allows one app ("a maximum of 10", per the Slack SDK maintainers)."""


@dataclass
class SocketConnection:
    """One client connection: when it opened and closed, and the envelopes sent over it."""

    number: int  # 1, 2, … in the order the connections opened
    ws: web.WebSocketResponse
    opened_at: float
    closed_at: float | None = None
    sent: list[str] = field(default_factory=list)  # envelope ids, in order
    acked: list[tuple[str, float]] = field(default_factory=list)  # (envelope id, monotonic time of its ack)

    @property
    def live(self) -> bool:
        """Open and not closing."""
        return self.closed_at is None and not self.ws.closed


class SocketModeServer:
    """Connected Socket Mode clients; each envelope goes to one of them and waits for its ack."""

    def __init__(self, fake: FakeSlackBase) -> None:
        self.fake = fake
        self.history: list[SocketConnection] = []  # every connection accepted, open or closed, oldest first
        self.connects = 0  # how many connections were ever opened (reconnects count)
        self.refused = 0  # connection attempts refused (an outage, or more than MAX_CONNECTIONS)
        self._outage = False
        self._turn = 0  # round-robin position
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._sent_on: dict[str, SocketConnection] = {}  # envelope id -> the connection it went to
        self._unacked_by: dict[str, set[int]] = {}  # event id -> connections that let it time out

    @property
    def connections(self) -> list[SocketConnection]:
        """The live connections, oldest first."""
        return [c for c in self.history if c.live]

    @property
    def connected(self) -> bool:
        """Whether a Socket Mode client is connected."""
        return bool(self.connections)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """One client connection: say hello, then read acks until it closes (refused during an outage, and
        told ``too_many_websockets`` beyond :data:`MAX_CONNECTIONS`)."""
        if self._outage:
            self.refused += 1
            self.fake.notify()
            return web.Response(status=503, text="Socket Mode is unavailable")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        if len(self.connections) >= MAX_CONNECTIONS:
            self.refused += 1
            refusal = {"type": "disconnect", "reason": "too_many_websockets", "debug_info": {"host": "fake-slack"}}
            await ws.send_str(json.dumps(refusal))
            await ws.close()
            self.fake.notify()
            return ws
        self.connects += 1
        connection = SocketConnection(self.connects, ws, time.monotonic())
        self.history.append(connection)
        hello = {
            "type": "hello",
            "num_connections": len(self.connections),
            "debug_info": {"host": "fake-slack", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.fake.app_id},
        }
        await ws.send_str(json.dumps(hello))
        self.fake.notify()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._acknowledged(msg.data)
        finally:
            connection.closed_at = time.monotonic()
            self.fake.notify()
        return ws

    def _acknowledged(self, data: str) -> None:
        try:
            ack = json.loads(data)
        except json.JSONDecodeError:
            return
        envelope_id = str(ack.get("envelope_id")) if isinstance(ack, dict) else ""
        future = self._acks.get(envelope_id)
        if future is not None and not future.done():
            future.set_result(ack)
            sent_on = self._sent_on.get(envelope_id)
            if sent_on is not None:
                sent_on.acked.append((envelope_id, time.monotonic()))

    def _choose(self, avoid: set[int], tried: set[int]) -> SocketConnection | None:
        """The next live connection round-robin (not one in ``tried``); one in ``avoid`` (it let this event time
        out) only if no other is left."""
        live = [c for c in self.connections if c.number not in tried]
        candidates = [c for c in live if c.number not in avoid] or live
        if not candidates:
            return None
        chosen = candidates[self._turn % len(candidates)]
        self._turn += 1
        return chosen

    async def send(self, delivery: Delivery, ack_timeout: float) -> Delivery:
        """Send one envelope to one connection; status 200 when acked within `ack_timeout`, else 0 with
        timed_out (the connection it went to is then avoided by the event's next delivery)."""
        if not self.connected:
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
        event_id = str(delivery.payload.get("event_id") or "")
        avoid = self._unacked_by.get(event_id, set()) if event_id else set()
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = future
        started = time.monotonic()
        try:
            connection = await self._send_to_one(json.dumps(message), avoid)
            if connection is None:
                delivery.error = "no live connection"
                return delivery
            delivery.connection = connection.number
            self._sent_on[envelope_id] = connection
            connection.sent.append(envelope_id)
            ack = await asyncio.wait_for(future, ack_timeout)
            delivery.status = 200
            if "payload" in ack:
                delivery.response_body = json.dumps(ack["payload"])
        except TimeoutError:
            delivery.timed_out = True
            delivery.error = "timeout"
            if event_id and delivery.connection is not None:
                self._unacked_by.setdefault(event_id, set()).add(delivery.connection)
        finally:
            self._acks.pop(envelope_id, None)
            self._sent_on.pop(envelope_id, None)
            delivery.ack_seconds = time.monotonic() - started
        return delivery

    async def _send_to_one(self, text: str, avoid: set[int]) -> SocketConnection | None:
        """Write the envelope to a live connection; one that turns out to be closing is skipped for another."""
        tried: set[int] = set()
        while (connection := self._choose(avoid, tried)) is not None:
            try:
                await connection.ws.send_str(text)
                return connection
            except (ConnectionError, RuntimeError):
                tried.add(connection.number)
        return None

    async def request_reconnect(self, reason: str = "refresh_requested") -> None:
        """Ask every client to reconnect (Slack's `disconnect` message); they open a new connection."""
        for connection in self.connections:
            await connection.ws.send_str(
                json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}})
            )

    async def drop(self, connection: SocketConnection) -> None:
        """Close one connection abruptly from the server side."""
        await connection.ws.close(code=1011, message=b"fake-slack dropped the connection")

    async def drop_all(self) -> None:
        """Close every connection abruptly from the server side (a network blip)."""
        for connection in self.connections:
            await self.drop(connection)

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
        for connection in self.connections:
            await connection.ws.close()
