"""`FakeSlack`: the aiohttp server on 127.0.0.1 (Web API, response URLs, Socket Mode) and delivery to the app."""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

from . import methods_chat, methods_files, methods_misc, methods_people  # noqa: F401  (register the Web API methods)
from .delivery import Delivery, post, signed_headers
from .socket_mode import SocketModeServer
from .view_actions import ViewActions
from .web_api import handle


class FakeSlack(ViewActions):
    """A fake Slack for one app: `async with FakeSlack(signing_secret="…") as fake: …` (see the package doc)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.forge_signature = False
        self.socket = SocketModeServer(self)
        self.socket_url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    async def start(self) -> FakeSlack:
        """Bind 127.0.0.1 on an ephemeral port; `api_url` is valid afterwards."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{rid}", self._response)
        app.router.add_post(methods_files.UPLOAD_PATH, self._upload)
        app.router.add_get("/socket", self.socket.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.base_url}/api/"
        self.socket_url = f"ws://127.0.0.1:{self.port}/socket"
        self._session = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        """Close Socket Mode connections, the client session and the server."""
        for task in list(self.background):
            task.cancel()
        await self.socket.close_all()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def _api(self, request: web.Request) -> web.Response:
        return await handle(self, request)

    async def _upload(self, request: web.Request) -> web.Response:
        return await methods_files.receive_upload(self, request)

    def add_channel(
        self, channel_id: str, team_id: str | None = None, members: list[str] | None = None, *, private: bool = False
    ) -> None:
        """A channel the app is a member of (a results channel); ``conversations.members`` answers ``members``.
        A ``private`` channel needs the ``groups:*`` scopes where a public one needs ``channels:*``."""
        ws = self.workspace(team_id)
        ws.messages.setdefault(channel_id, [])
        ws.channel_members[channel_id] = list(members or [])
        if private:
            ws.private_channels.add(channel_id)

    def add_usergroup(self, group_id: str, users: list[str]) -> None:
        """A user group (``usergroups.users.list`` answers its members)."""
        groups: dict[str, list[str]] = getattr(self, "usergroups", {})
        groups[group_id] = list(users)
        self.usergroups = groups

    def shared_files(self, channel_id: str) -> list[methods_files.FakeFile]:
        """The completed uploads shared in a channel, in order."""
        return [f for f in methods_files.files_of(self).values() if f.completed and channel_id in f.channels]

    async def _response(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        if rid not in self.response_urls:
            return web.Response(status=404, text="no_active_hooks")
        try:
            body = json.loads(await request.read())
        except json.JSONDecodeError:
            return web.Response(status=400, text="invalid_payload")
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks") or body.get("delete_original")):
            return web.Response(status=400, text="no_text")
        self.apply_response(rid, body)
        return web.json_response({"ok": True})

    async def _transmit(self, delivery: Delivery) -> Delivery:
        """Over Socket Mode when an app is connected and no events URL is set; else a signed HTTP POST."""
        if self.events_url is None:
            if self.socket.connected:
                return await self.socket.send(delivery, self.ack_timeout)
            raise RuntimeError("no app to deliver to: call set_events_url() or connect a Socket Mode client")
        assert self._session is not None, "FakeSlack not started"
        headers = signed_headers(self.signing_secret, delivery.body, delivery.content_type)
        if self.forge_signature:
            headers["X-Slack-Signature"] = "v0=" + "0" * 64
        url = self.request_urls.get(delivery.kind, self.events_url)
        return await post(self._session, url, delivery, headers, self.ack_timeout)

    async def send_raw(self, body: bytes, headers: dict[str, str]) -> Delivery:
        """POST arbitrary bytes and headers to the events URL (forged or stale signatures, odd bodies)."""
        assert self._session is not None and self.events_url is not None
        delivery = Delivery(kind="raw", payload={}, body=body, content_type=headers.get("Content-Type", ""))
        await post(self._session, self.events_url, delivery, headers, self.ack_timeout)
        self.deliveries.append(delivery)
        return delivery
