"""The fake Discord gateway: HELLO, IDENTIFY → READY (+ GUILD_CREATE), heartbeats, RESUME with replay.

One bot session at a time is the normal case, but every identified session gets its own sequence and
event log, so a bot restart (a second IDENTIFY) works as on Discord. Events dispatched while a session has
no socket are kept and replayed on RESUME, in order, with their original sequence numbers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_MS = 41250

# intents
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


@dataclass
class Session:
    """A gateway session: its id, sequence, intents and every event sent in it (for RESUME)."""

    id: str
    intents: int
    seq: int = 0
    log: list[tuple[int, str]] = field(default_factory=list)
    ws: web.WebSocketResponse | None = None
    shard: tuple[int, int] | None = None
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class GatewayStats:
    """Counters tests can assert on: connections, identifies, resumes, heartbeats, resume URL use."""

    connections: int = 0
    identifies: int = 0
    resumes: int = 0
    heartbeats: int = 0
    resume_url_connections: int = 0
    invalid_sessions: int = 0


class Gateway:
    """Accepts discord.py's websocket and dispatches events to every live (or resumable) session."""

    def __init__(
        self,
        *,
        token: Callable[[], str],
        ready_payload: Callable[[Session], dict[str, Any]],
        guild_payloads: Callable[[], list[dict[str, Any]]],
        members_chunk: Callable[[str], list[dict[str, Any]]],
        allowed_privileged_intents: int,
    ) -> None:
        self._token = token
        self._ready_payload = ready_payload
        self._guild_payloads = guild_payloads
        self._members_chunk = members_chunk
        self.allowed_privileged_intents = allowed_privileged_intents
        self.sessions: dict[str, Session] = {}
        self.stats = GatewayStats()
        self.identified = asyncio.Event()
        self._outage = asyncio.Event()
        self._outage.set()  # set = the gateway answers
        self._sockets: set[web.WebSocketResponse] = set()

    # --- dispatch ---------------------------------------------------------------------------------------
    async def dispatch(self, event: str, data: dict[str, Any], *, intent: int = 0) -> None:
        """Send a DISPATCH event to every session whose intents include ``intent`` (0 = always)."""
        for session in list(self.sessions.values()):
            if intent and not session.intents & intent:
                continue
            if not self.shard_gets(session, event, data):
                continue
            await self.emit(session, event, data)

    @staticmethod
    def shard_gets(session: Session, event: str, data: dict[str, Any]) -> bool:
        """Whether this session's shard receives the event: guild events go to shard
        ``(guild_id >> 22) % shard_count``, DMs and everything else to shard 0 (as on Discord)."""
        if session.shard is None:
            return True
        shard_id, count = session.shard
        guild_id = data.get("id") if event.startswith("GUILD_") and "guild_id" not in data else data.get("guild_id")
        if guild_id is None:
            return shard_id == 0
        return (int(guild_id) >> 22) % count == shard_id

    async def emit(self, session: Session, event: str, data: dict[str, Any]) -> None:
        """Send one DISPATCH to one session: next sequence number, kept in the log (as sent) for RESUME."""
        async with session.send_lock:
            session.seq += 1
            text = json.dumps({"op": 0, "t": event, "s": session.seq, "d": data})
            session.log.append((session.seq, text))
            await self._send(session, text)

    async def _send(self, session: Session, text: str) -> None:
        ws = session.ws
        if ws is None or ws.closed:
            return
        try:
            await ws.send_str(text)
        except (ConnectionError, RuntimeError):
            log.debug("gateway send failed; the event stays in the log for RESUME")

    # --- faults -----------------------------------------------------------------------------------------
    async def disconnect(self, code: int = 4000) -> None:
        """Close every socket with ``code`` (4000 = unknown error → discord.py resumes)."""
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=code, message=b"fake discord disconnect")

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT on every socket (Discord does this before moving a session): the client closes
        and RESUMEs."""
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.send_str(json.dumps({"op": 7, "d": None}))

    async def invalidate_sessions(self) -> None:
        """Forget every session and drop the sockets: RESUME gets op 9 (not resumable), the client IDENTIFYs
        anew, and events in between are lost — as when Discord invalidates a session."""
        self.sessions.clear()
        await self.disconnect(4000)

    def begin_outage(self) -> None:
        """New connections are accepted but get no HELLO until :meth:`end_outage`."""
        self._outage.clear()

    def end_outage(self) -> None:
        """Let held connections proceed."""
        self._outage.set()

    async def close_all(self) -> None:
        """Close every socket at shutdown (code 1001 so nothing tries to resume against a dead fake)."""
        self._outage.set()
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001)

    # --- the websocket ----------------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """The gateway endpoint (``/gateway`` and the resume URL ``/gateway-resume``)."""
        if request.query.get("encoding", "json") != "json":
            raise web.HTTPBadRequest(text="fake discord speaks encoding=json only")
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self._sockets.add(ws)
        self.stats.connections += 1
        if request.path.endswith("-resume"):
            self.stats.resume_url_connections += 1
        session: Session | None = None
        try:
            await self._outage.wait()
            await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}}))
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    if msg.type is WSMsgType.BINARY:
                        await ws.close(code=4002, message=b"Error while decoding payload.")
                    continue
                try:
                    frame = json.loads(msg.data)
                except ValueError:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                session = await self._on_frame(ws, frame, session)
        finally:
            self._sockets.discard(ws)
            if session is not None and session.ws is ws:
                session.ws = None
        return ws

    async def _on_frame(
        self, ws: web.WebSocketResponse, frame: dict[str, Any], session: Session | None
    ) -> Session | None:
        op = frame.get("op")
        data = frame.get("d")
        if op == 1:
            self.stats.heartbeats += 1
            await ws.send_str(json.dumps({"op": 11}))
        elif op == 2:
            return await self._identify(ws, data or {})
        elif op == 6:
            return await self._resume(ws, data or {})
        elif op == 8 and session is not None:
            guild_id = str((data or {}).get("guild_id"))
            chunk = {
                "guild_id": guild_id,
                "members": self._members_chunk(guild_id),
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
                "nonce": (data or {}).get("nonce"),
            }
            await self.dispatch("GUILD_MEMBERS_CHUNK", chunk)
        elif op in (3, 4):
            pass  # presence / voice state: accepted, ignored
        elif session is None:
            await ws.close(code=4003, message=b"Not authenticated.")
        else:
            await ws.close(code=4001, message=b"Unknown opcode.")
        return session

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> Session | None:
        if data.get("token") != self._token():
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        intents = int(data.get("intents") or 0)
        if intents & PRIVILEGED & ~self.allowed_privileged_intents:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return None
        self.stats.identifies += 1
        session = Session(id=secrets.token_hex(16), intents=intents, ws=ws)
        if data.get("shard") is not None:
            session.shard = (int(data["shard"][0]), int(data["shard"][1]))
        self.sessions[session.id] = session
        ready = self._ready_payload(session)
        if session.shard is not None:
            ready["shard"] = list(session.shard)
            ready["guilds"] = [g for g in ready["guilds"] if self.shard_gets(session, "GUILD_CREATE", g)]
        await self.emit(session, "READY", ready)
        if intents & GUILDS:
            for guild in self._guild_payloads():
                if self.shard_gets(session, "GUILD_CREATE", guild):
                    await self.emit(session, "GUILD_CREATE", guild)
        self.identified.set()
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> Session | None:
        if data.get("token") != self._token():
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        session = self.sessions.get(str(data.get("session_id")))
        if session is None:
            self.stats.invalid_sessions += 1
            await ws.send_str(json.dumps({"op": 9, "d": False}))
            return None
        self.stats.resumes += 1
        last_seen = int(data.get("seq") or 0)
        async with session.send_lock:
            old = session.ws
            session.ws = ws
            if old is not None and old is not ws and not old.closed:
                with contextlib.suppress(Exception):
                    await old.close(code=4000)
            for seq, text in session.log:
                if seq > last_seen:
                    await self._send(session, text)
            session.seq += 1
            resumed = json.dumps({"op": 0, "t": "RESUMED", "s": session.seq, "d": {}})
            session.log.append((session.seq, resumed))
            await self._send(session, resumed)
        return session
