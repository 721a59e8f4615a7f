"""The :class:`FakeDiscord` object tests hold: start/stop, the people in the world, what they do, and what
the bot did (messages, interactions, recorded requests)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.waiting import wait_until

from . import interactions, rest, rest_app
from .actions import UserActions
from .faults import ForcedFault
from .gateway import DIRECT_MESSAGES, GUILD_MEMBERS, GUILD_MESSAGES, GUILDS, MESSAGE_CONTENT, Gateway, Session
from .old_edits import OldMessageEdits
from .ratelimit import RateLimiter
from .recording import RecordedRequest
from .state import DM, GUILD_TEXT, Channel, Interaction, World, iso_now, new_snowflake


class FakeDiscord(UserActions):
    """A Discord REST API + gateway on 127.0.0.1 that the real discord.py talks to (see the package doc)."""

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_name: str = "Interview Bridge",
        message_limit: tuple[int, float] = (5, 5.0),
        default_limit: tuple[int, float] = (50, 1.0),
        global_limit: int | None = 50,
        interaction_deadline: float = 3.0,
        allowed_privileged_intents: int = 0,
        strict_spec: bool = False,
    ) -> None:
        self.token = token or "fake." + secrets.token_urlsafe(24)
        self.bot_user_id = new_snowflake()
        self.application_id = new_snowflake()
        self.interaction_deadline = interaction_deadline
        self.strict_spec = strict_spec
        self.world = World(self.bot_user_id, self.application_id, bot_name)
        self.old_edits = OldMessageEdits()  # 30046 for too many edits of messages older than an hour
        self.limiter = RateLimiter(message_limit=message_limit, default_limit=default_limit, global_limit=global_limit)
        self.gateway = Gateway(
            token=lambda: self.token,
            ready_payload=self._ready_payload,
            guild_payloads=lambda: [self.world.guild_payload(g) for g in self.world.guilds],
            members_chunk=self._members_chunk,
            allowed_privileged_intents=allowed_privileged_intents,
        )
        self.requests: list[RecordedRequest] = []
        self.deleted_messages: list[dict[str, Any]] = []
        self.forced_faults: list[ForcedFault] = []
        self.internal_errors: list[str] = []
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Future[Any]] = set()

    # --- lifecycle --------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind 127.0.0.1 on an ephemeral port and serve REST and the gateway."""
        app = web.Application(middlewares=[rest.discord_middleware], client_max_size=64 * 1024 * 1024)
        app[rest.FAKE_KEY] = self
        rest.add_routes(app)
        rest_app.add_routes(app)
        interactions.add_routes(app)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway-resume", self.gateway.handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Close every gateway socket and the HTTP server."""
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def rest_base(self) -> str:
        """What ``discord.http.Route.BASE`` must be: ``http://127.0.0.1:PORT/api/v10``."""
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        """What ``DiscordWebSocket.DEFAULT_GATEWAY`` must be: ``ws://127.0.0.1:PORT/gateway``."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        """The ``resume_gateway_url`` sent in READY (discord.py reconnects there to RESUME)."""
        return f"ws://127.0.0.1:{self.port}/gateway-resume"

    # --- people and places ------------------------------------------------------------------------------
    def add_user(self, user_id: str, name: str, *, dms_open: bool = True, locale: str = "en-US") -> dict[str, Any]:
        """Add a Discord user; returns their user object."""
        self.world.users[user_id] = {
            "id": user_id,
            "username": name,
            "global_name": name,
            "discriminator": "0",
            "avatar": None,
            "bot": False,
            "dms_open": dms_open,
            "locale": locale,
        }
        return self.world.user_payload(user_id)

    def set_dms_open(self, user_id: str, open: bool) -> None:
        """Open or close a user's DMs to the bot (closed → sending to their DM is 403 / 50007)."""
        self.world.users[user_id]["dms_open"] = open

    def add_guild(
        self,
        guild_id: str,
        name: str,
        members: list[str],
        roles: dict[str, list[str]] | None = None,
        *,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        """Add a guild with a ``general`` text channel, ``members`` (user ids; unknown ones are created) and
        ``roles`` (role id → member ids; a non-numeric key is taken as the role's name and gets an id).
        Returns the GUILD_CREATE payload; the guild's text channel id is ``payload["channels"][0]["id"]``."""
        for member in members:
            if member not in self.world.users:
                self.add_user(member, f"user{member}")
        role_names: dict[str, str] = {guild_id: "@everyone"}
        role_members: dict[str, set[str]] = {}
        for key, holders in (roles or {}).items():
            role_id = key if key.isdigit() else new_snowflake()
            role_names[role_id] = key if not key.isdigit() else f"role-{key}"
            role_members[role_id] = set(holders)
        channel = Channel(id=new_snowflake(), type=GUILD_TEXT, guild_id=guild_id, name="general")
        self.world.channels[channel.id] = channel
        self.world.guilds[guild_id] = {
            "id": guild_id,
            "name": name,
            "owner_id": members[0] if members else self.bot_user_id,
            "preferred_locale": locale,
            "_members": set(members),
            "_role_names": role_names,
            "_role_members": role_members,
            "_channels": [channel.id],
            "_joined_at": iso_now(),
        }
        payload = self.world.guild_payload(guild_id)
        if self.gateway.sessions:
            self._spawn(self.gateway.dispatch("GUILD_CREATE", payload, intent=GUILDS))
        return payload

    def guild_channel_of(self, guild_id: str) -> str:
        """The id of a guild's ``general`` text channel."""
        return str(self.world.guilds[guild_id]["_channels"][0])

    def role_id(self, guild_id: str, name: str) -> str:
        """The id of a role added by name in :meth:`add_guild`."""
        for role_id, role_name in self.world.guilds[guild_id]["_role_names"].items():
            if role_name == name:
                return str(role_id)
        raise KeyError(name)

    def grant_permissions(self, guild_id: str, user_id: str, bits: int) -> None:
        """Give a member extra permissions in the guild (e.g. Manage Server, ``1 << 5``) as interactions carry them."""
        extra = self.world.guilds[guild_id].setdefault("_extra_permissions", {})
        extra[user_id] = extra.get(user_id, 0) | bits

    async def remove_member(self, guild_id: str, user_id: str) -> None:
        """The user leaves the guild (GUILD_MEMBER_REMOVE, only with the members intent; member fetch → 404)."""
        self.world.guilds[guild_id]["_members"].discard(user_id)
        data = {"guild_id": guild_id, "user": self.world.user_payload(user_id)}
        await self.gateway.dispatch("GUILD_MEMBER_REMOVE", data, intent=GUILD_MEMBERS)

    def dm_channel_of(self, user_id: str) -> str | None:
        """The id of the DM channel between the bot and this user, if one was opened."""
        return self.world.dm_by_user.get(user_id)

    # --- what the bot did -------------------------------------------------------------------------------
    def messages(self, channel_id: str, *, include_ephemeral: bool = True) -> list[dict[str, Any]]:
        """Snapshots of a channel's messages, oldest first, each with ``edits`` and ``ephemeral`` added."""
        channel = self.world.channels.get(channel_id)
        if channel is None:
            return []
        snaps = [self.world.snapshot(m) for m in channel.messages.values()]
        return [m for m in snaps if include_ephemeral or not m["ephemeral"]]

    def message(self, message_id: str) -> dict[str, Any] | None:
        """A snapshot of one message (any channel, ephemeral included), or ``None`` if unknown or deleted."""
        found = self.world.find_message(message_id)
        return None if found is None else self.world.snapshot(found)

    def bot_messages(self, channel_id: str) -> list[dict[str, Any]]:
        """Snapshots of the bot's messages in a channel, oldest first."""
        return [m for m in self.messages(channel_id) if m["author"]["id"] == self.bot_user_id]

    def typing_count(self, channel_id: str) -> int:
        """How often the bot triggered typing in a channel."""
        channel = self.world.channels.get(channel_id)
        return channel.typing_count if channel else 0

    def interaction(self, interaction_id: str) -> Interaction:
        """An interaction by id."""
        return self.world.interactions[interaction_id]

    def requests_to(self, method: str, path_regex: str) -> list[RecordedRequest]:
        """The recorded requests with this method whose path matches ``path_regex`` (``re.search``)."""
        import re

        pattern = re.compile(path_regex)
        return [r for r in self.requests if r.method == method.upper() and pattern.search(r.path)]

    def spec_errors(self) -> list[str]:
        """Every spec violation found so far, as ``METHOD /path: problem`` lines."""
        return [f"{r.method} {r.path}: {problem}" for r in self.requests for problem in r.spec_errors]

    def assert_no_spec_errors(self) -> None:
        """Fail (AssertionError) if any request body broke Discord's OpenAPI schema."""
        problems = self.spec_errors()
        assert not problems, "requests that break discord-openapi.json:\n" + "\n".join(problems)

    # --- faults -----------------------------------------------------------------------------------------
    def force_429(
        self, method: str, path_regex: str, *, count: int = 1, retry_after: float = 0.2, global_: bool = False
    ) -> None:
        """Answer the next ``count`` requests with ``method`` whose path (after /api/v10) matches
        ``path_regex`` (``re.search``) with a 429 of ``retry_after`` seconds (``global_``: a global limit)."""
        self.limiter.force(method, path_regex, count=count, retry_after=retry_after, global_=global_)

    def force_error(
        self, method: str, path_regex: str, status: int, code: int, message: str, *, count: int = 1
    ) -> None:
        """Answer the next ``count`` matching requests with a Discord error, e.g. ``403, 50001, "Missing
        Access"`` or ``500, 0, "Internal Server Error"`` (discord.py retries a 5xx itself)."""
        self.forced_faults.append(ForcedFault(method.upper(), re.compile(path_regex), count, status, code, message))

    def drop_connection(self, method: str, path_regex: str, *, count: int = 1) -> None:
        """Close the connection of the next ``count`` matching requests without answering (a network blip:
        discord.py raises ``aiohttp.ServerDisconnectedError``; nothing was done on the server)."""
        self.forced_faults.append(ForcedFault(method.upper(), re.compile(path_regex), count))

    async def delete_message(self, message_id: str) -> None:
        """Someone else deletes a message (a moderator, another client of the bot): edits of it are then
        404 / 10008 Unknown Message, and the bot gets MESSAGE_DELETE."""
        for channel in self.world.channels.values():
            message = channel.messages.pop(message_id, None)
            if message is not None:
                self.deleted_messages.append(message)
                await self.dispatch_message_event("MESSAGE_DELETE", channel, message)
                self.notify()
                return
        raise ValueError(f"no message {message_id}")

    async def disconnect_gateway(self) -> None:
        """Drop the bot's websocket (close code 4000): discord.py reconnects to ``resume_gateway_url`` and
        RESUMEs; events dispatched meanwhile are replayed."""
        await self.gateway.disconnect(4000)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: discord.py closes the socket and RESUMEs (nothing is lost)."""
        await self.gateway.request_reconnect()

    async def invalidate_sessions(self) -> None:
        """Invalidate every gateway session: discord.py's RESUME is refused (op 9) and it IDENTIFYs again."""
        await self.gateway.invalidate_sessions()

    @contextlib.asynccontextmanager
    async def gateway_outage(self) -> AsyncIterator[None]:
        """Drop the websocket and hold reconnections (no HELLO) until the block ends: whatever is
        dispatched inside the block reaches the bot only through RESUME's replay."""
        self.gateway.begin_outage()
        try:
            await self.gateway.disconnect(4000)
            yield
        finally:
            self.gateway.end_outage()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``predicate()`` is true (checked on every change and every 20 ms); ``TimeoutError``."""
        await wait_until(predicate, self._changed, timeout, 0.02)

    async def wait_until_identified(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until a bot has IDENTIFIED on the gateway."""
        await asyncio.wait_for(self.gateway.identified.wait(), timeout)

    # --- internals --------------------------------------------------------------------------------------
    def notify(self) -> None:
        """Wake :meth:`wait_for` callers (called after every state change)."""
        self._changed.set()

    async def dispatch_message_event(self, event: str, channel: Channel, message: dict[str, Any]) -> None:
        """Dispatch MESSAGE_CREATE/UPDATE/DELETE for a message, honouring intents like Discord."""
        intent = DIRECT_MESSAGES if channel.type == DM else GUILD_MESSAGES
        if event == "MESSAGE_DELETE":
            data: dict[str, Any] = {"id": message["id"], "channel_id": channel.id}
            if channel.guild_id:
                data["guild_id"] = channel.guild_id
            await self.gateway.dispatch(event, data, intent=intent)
            return
        for session in list(self.gateway.sessions.values()):
            if not session.intents & intent or not self.gateway.shard_gets(session, event, message):
                continue
            payload = dict(message)
            if channel.type != DM and not self._can_read_content(session, message):
                payload.update(content="", embeds=[], attachments=[], components=[])
            await self.gateway.emit(session, event, payload)
        self.notify()

    def _can_read_content(self, session: Session, message: dict[str, Any]) -> bool:
        if session.intents & MESSAGE_CONTENT or message["author"]["id"] == self.bot_user_id:
            return True
        return f"<@{self.bot_user_id}>" in str(message.get("content") or "")

    def _ready_payload(self, session: Session) -> dict[str, Any]:
        me = self.world.user_payload(self.bot_user_id)
        me.update({"verified": True, "mfa_enabled": False, "email": None})
        return {
            "v": 10,
            "user": me,
            "guilds": [{"id": g, "unavailable": True} for g in self.world.guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "application": {"id": self.application_id, "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "_trace": ["fake-discord"],
        }

    def _members_chunk(self, guild_id: str) -> list[dict[str, Any]]:
        guild = self.world.guilds.get(guild_id)
        if guild is None:
            return []
        return [self.world.member_payload(guild_id, uid) for uid in sorted(guild["_members"])]

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
