"""The Web API endpoint `POST /api/<method>`: arguments, auth, rate tiers, errors, recording.

Arguments are merged from the query string, a form body (urlencoded or multipart) and a JSON body, as
slack_sdk sends any of them. The token comes from `Authorization: Bearer …` or a `token` argument.
Errors answer HTTP 200 `{"ok": false, "error": …}` like Slack; rate limits answer HTTP 429 with
`Retry-After` and `{"ok": false, "error": "ratelimited"}`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .core import FakeSlackBase
from .scopes import ALL, missing_scope
from .state import JSON, RecordedCall, Workspace

JSON_ARGS = ("blocks", "metadata", "chunks", "view", "attachments", "prompts", "loading_messages")


class ApiError(Exception):
    """An `ok: false` answer; `extra` is merged into the body (errors, response_metadata)."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


Handler = Callable[[FakeSlackBase, Workspace, JSON], JSON]
HANDLERS: dict[str, Handler] = {}
# methods naming no channel or user: still answered when the app lost access to channels only
CHANNEL_FREE = {"auth.test", "team.info", "apps.connections.open"}


def method(name: str) -> Callable[[Handler], Handler]:
    """Register a Web API method handler."""

    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


async def read_args(request: web.Request) -> JSON:
    """Merge query, form and JSON arguments; decode JSON-typed arguments sent as strings."""
    args: JSON = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            raw = await request.read()
            if raw:
                body = json.loads(raw)
                if not isinstance(body, dict):
                    raise ApiError("invalid_json")
                args.update(body)
        else:
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
    for key in JSON_ARGS:
        value = args.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                args[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ApiError("invalid_arguments" if key != "blocks" else "invalid_blocks_format") from exc
    return args


def _token(request: web.Request, args: JSON) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth[len("Bearer ") :].strip()
    token = args.pop("token", None)
    return str(token) if token else None


def _authenticate(fake: FakeSlackBase, name: str, token: str | None) -> Workspace:
    if not token:
        raise ApiError("not_authed")
    if token == fake.app_token:
        if name != "apps.connections.open":
            raise ApiError("not_allowed_token_type")
        return fake.workspace()
    for ws in fake.workspaces.values():
        if ws.bot_token == token:
            if name == "apps.connections.open":
                raise ApiError("not_allowed_token_type")
            if ws.removed and (ws.removed != "channel_not_found" or name not in CHANNEL_FREE):
                raise ApiError(ws.removed)
            return ws
    raise ApiError("invalid_auth")


def _rate_channel(fake: FakeSlackBase, ws: Workspace, args: JSON) -> str | None:
    value = args.get("channel") or args.get("channel_id")
    if not value:
        return None
    if value in ws.users:  # a user id names the DM with that user
        return fake.dm_channel_of(str(value), ws.team_id)
    return str(value)


def _conversation_kind(ws: Workspace, args: JSON) -> str | None:
    """The kind of conversation a call names, as its scopes go: im (a DM), groups (private) or channels."""
    channel = str(args.get("channel") or "")
    if not channel:
        return None
    if channel.startswith("D"):
        return "im"
    return "groups" if channel in ws.private_channels or channel.startswith("G") else "channels"


async def handle(fake: FakeSlackBase, request: web.Request) -> web.Response:
    """Answer one Web API call."""
    name = request.match_info["method"]
    args: JSON = {}
    team_id: str | None = None
    status, headers = 200, {}
    try:
        args = await read_args(request)
        token = _token(request, args)
        ws = _authenticate(fake, name, token)
        team_id = ws.team_id
        needed = missing_scope(name, fake.granted_scopes, _conversation_kind(ws, args))
        if needed is not None:
            raise ApiError("missing_scope", needed=needed, provided=",".join(sorted(fake.granted_scopes or ())))
        delay = fake.latency.get(name, fake.latency.get("*", 0.0))
        if delay:
            await asyncio.sleep(delay)
        retry_after = fake.rate.check(name, ws.team_id, _rate_channel(fake, ws, args))
        if retry_after is not None:
            status, headers = 429, {"Retry-After": str(retry_after)}
            raise ApiError("ratelimited")
        forced_status = fake.forced_http.get(name)
        if forced_status:
            status = forced_status.pop(0)
            raise ApiError("service_unavailable" if status == 503 else "internal_error")
        forced = fake.forced_errors.get(name)
        if forced:
            raise ApiError(forced.pop(0))
        handler = HANDLERS.get(name)
        if handler is None:
            raise ApiError("unknown_method")
        body = {"ok": True, **handler(fake, ws, args)}
    except ApiError as exc:
        body = {"ok": False, "error": exc.code, **exc.extra}
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = {"ok": False, "error": "invalid_json"}
    if team_id is not None and name != "apps.connections.open":  # like Slack: the bot token's scopes on each answer
        headers["X-OAuth-Scopes"] = ",".join(sorted(fake.granted_scopes if fake.granted_scopes is not None else ALL))
    fake.calls.append(RecordedCall(name, args, status, body, team_id))
    fake.notify()
    if body.get("ok") and fake.lost_answers.get(name):
        fake.lost_answers[name] -= 1
        if request.transport is not None:
            request.transport.abort()  # done, but the app never hears so (the answer below goes nowhere)
    return web.json_response(body, status=status, headers=headers)
