"""The fake's REST API under ``/api/v10``: the middleware (auth, rate limits, recording, spec checks) and
the handlers for DMs, channel messages and typing.

Users, guilds, the application and its commands are in :mod:`fake_discord.rest_app`.

Interaction callbacks and webhooks (followups) live in :mod:`fake_discord.interactions`.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from .faults import first_fault
from .old_edits import TOO_MANY_OLD_EDITS
from .recording import (
    CANNOT_DM,
    CANNOT_IN_DM,
    EMPTY_MESSAGE,
    MISSING_PERMISSIONS,
    NOT_AUTHOR,
    UNKNOWN_CHANNEL,
    UNKNOWN_MESSAGE,
    DiscordError,
    RecordedRequest,
    error,
    invalid_form,
)
from .state import DM, EPHEMERAL, Channel

if TYPE_CHECKING:
    from .fake import FakeDiscord

PREFIX = "/api/v10"
FAKE_KEY: web.AppKey[FakeDiscord] = web.AppKey("fake_discord", object)  # type: ignore[arg-type]
BODY_KEY: web.RequestKey[Any] = web.RequestKey("body", object)
FILES_KEY: web.RequestKey[int] = web.RequestKey("files", int)
MAX_CONTENT = 2000
COMPONENTS_V2 = 1 << 15

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def fake_of(request: web.Request) -> FakeDiscord:
    """The :class:`FakeDiscord` serving this request."""
    return request.app[FAKE_KEY]


def body_of(request: web.Request) -> Any:
    """The parsed JSON body (or ``payload_json`` of a multipart body) of this request."""
    return request.get(BODY_KEY)


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON response with ``Content-Type: application/json`` exactly (discord.py compares the header
    verbatim and treats anything else, even with ``; charset=utf-8``, as text)."""
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


def _major_parameter(match: dict[str, str]) -> str:
    for key in ("channel_id", "guild_id"):
        if key in match:
            return match[key]
    if "webhook_id" in match:
        return f"{match['webhook_id']}:{match.get('webhook_token', '')}"
    if "interaction_id" in match:
        return f"{match['interaction_id']}:{match.get('interaction_token', '')}"
    return ""


async def _read_body(request: web.Request) -> tuple[Any, list[bytes]]:
    """The JSON body (or ``payload_json`` of a multipart body) and the attached files' contents."""
    if not request.can_read_body:
        return None, []
    content_type = request.content_type
    if content_type == "multipart/form-data":
        payload: Any = None
        files: list[bytes] = []
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, aiohttp.BodyPartReader):
                continue
            if part.name == "payload_json":
                payload = json.loads(await part.text())
            else:
                files.append(bytes(await part.read()))
        return payload, files
    raw = await request.read()
    if not raw:
        return None, []
    return json.loads(raw), []


@web.middleware
async def discord_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Auth, body parsing, spec validation, rate limits and recording around every REST handler."""
    if not request.path.startswith(PREFIX):
        return await handler(request)
    fake = fake_of(request)
    path = request.path[len(PREFIX) :]
    resource = request.match_info.route.resource
    canonical = resource.canonical if resource is not None else None
    template = canonical[len(PREFIX) :] if canonical and canonical.startswith(PREFIX) else None
    if request.match_info.http_exception is not None:
        template = None
    record = RecordedRequest(
        method=request.method, path=path, route=template, query=dict(request.query), json=None, at=time.time()
    )
    fake.requests.append(record)
    try:
        record.json, record.file_contents = await _read_body(request)
        record.files = len(record.file_contents)
    except ValueError:
        record.status = 400
        return json_response({"message": "400: Bad Request", "code": 50109}, 400)
    request[BODY_KEY] = record.json
    request[FILES_KEY] = record.files
    webhookish = path.startswith(("/webhooks/", "/interactions/"))
    if not webhookish and request.headers.get("Authorization") != f"Bot {fake.token}":
        record.status = 401
        return json_response({"message": "401: Unauthorized", "code": 0}, 401)
    if fake.strict_spec and record.spec_errors:
        record.status = 400
        problems = [{"code": "SPEC_VIOLATION", "message": p} for p in record.spec_errors]
        return json_response({"message": "Invalid Form Body", "code": 50035, "errors": {"_errors": problems}}, 400)
    fault = first_fault(fake.forced_faults, request.method, path)
    if fault is not None and fault.status == 0:  # a network blip: the connection drops, no answer
        record.status = 0
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=204)
    if fault is not None:
        record.status = fault.status
        return json_response({"message": fault.message, "code": fault.code}, fault.status)
    verdict = fake.limiter.check(
        request.method,
        path,
        template or path,
        _major_parameter(dict(request.match_info)),
        exempt_global=webhookish,
    )
    if verdict.refused is not None:
        record.status = 429
        response: web.StreamResponse = json_response(verdict.refused, 429)
        response.headers.update(verdict.headers)
        return response
    try:
        response = await handler(request)
    except DiscordError as exc:
        response = json_response(exc.body(), exc.status)
    except web.HTTPException as exc:
        response = json_response({"message": f"{exc.status}: {exc.reason}", "code": 0}, exc.status)
    except Exception as exc:  # a bug in the fake: answer 400 (a 500 makes discord.py retry for 25 s) and keep it
        fake.internal_errors.append(f"{request.method} {path}: {traceback.format_exc()}")
        response = json_response({"message": f"fake Discord internal error: {exc!r}", "code": 0}, 400)
    response.headers.update(verdict.headers)
    record.status = response.status
    fake.notify()
    return response


# --- DMs and channels -----------------------------------------------------------------------------------
async def open_dm(request: web.Request) -> web.Response:
    """POST /users/@me/channels — open (or get) the DM with ``recipient_id``. Works even when DMs are closed,
    as on Discord: only sending fails."""
    fake = fake_of(request)
    body = body_of(request) or {}
    recipient = str(body.get("recipient_id") or "")
    if recipient not in fake.world.users or recipient == fake.bot_user_id:
        raise invalid_form("recipient_id", "NUMBER_TYPE_COERCE", "Value is not a known user.")
    channel, _ = fake.world.open_dm(recipient)
    return json_response(channel.payload(fake.world))


def channel_of(request: web.Request) -> Channel:
    """The channel named in the path, or Discord's 404."""
    channel = fake_of(request).world.channels.get(request.match_info["channel_id"])
    if channel is None:
        raise error(UNKNOWN_CHANNEL)
    return channel


async def get_channel(request: web.Request) -> web.Response:
    """GET /channels/{channel_id}."""
    return json_response(channel_of(request).payload(fake_of(request).world))


async def typing(request: web.Request) -> web.Response:
    """POST /channels/{channel_id}/typing — counted per channel (``fake.typing_count``)."""
    channel = channel_of(request)
    fake = fake_of(request)
    if channel.type == DM and not fake.world.users[channel.recipient_id or ""]["dms_open"]:
        raise error(CANNOT_DM)
    channel.typing_count += 1
    return web.Response(status=204)


def check_message_body(body: dict[str, Any], *, creating: bool) -> None:
    """Discord's own checks beyond the schema, answered with 400 as Discord does: content of at most 2000
    characters, no empty message, at most 5 action rows (without the components-v2 flag), custom ids
    unique within a message, at most 6000 characters across embeds."""
    content = body.get("content")
    if isinstance(content, str) and len(content) > MAX_CONTENT:
        raise invalid_form("content", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length.")
    has_anything = any(body.get(k) for k in ("content", "embeds", "components", "attachments", "sticker_ids"))
    if creating and not has_anything:
        raise error(EMPTY_MESSAGE)
    components = body.get("components") or []
    if not int(body.get("flags") or 0) & COMPONENTS_V2 and len(components) > 5:
        raise invalid_form("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    custom_ids = _custom_ids(components)
    if len(custom_ids) != len(set(custom_ids)):
        raise invalid_form("components", "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated")
    embed_text = sum(_embed_length(e) for e in body.get("embeds") or [] if isinstance(e, dict))
    if embed_text > 6000:
        raise invalid_form("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def _custom_ids(components: list[Any]) -> list[str]:
    found: list[str] = []
    for component in components:
        if not isinstance(component, dict):
            continue
        if "custom_id" in component:
            found.append(str(component["custom_id"]))
        for key in ("components", "accessory", "component"):
            inner = component.get(key)
            found.extend(_custom_ids([inner] if isinstance(inner, dict) else inner or []))
    return found


def _embed_length(embed: dict[str, Any]) -> int:
    total = len(str(embed.get("title") or "")) + len(str(embed.get("description") or ""))
    total += len(str((embed.get("footer") or {}).get("text") or "")) + len(
        str((embed.get("author") or {}).get("name") or "")
    )
    for field in embed.get("fields") or []:
        total += len(str(field.get("name") or "")) + len(str(field.get("value") or ""))
    return total


async def create_message(request: web.Request) -> web.Response:
    """POST /channels/{channel_id}/messages — 403/50007 when the recipient's DMs are closed."""
    fake = fake_of(request)
    channel = channel_of(request)
    body = body_of(request) or {}
    if channel.type == DM and not fake.world.users[channel.recipient_id or ""]["dms_open"]:
        raise error(CANNOT_DM)
    check_message_body(body, creating=True)
    message = fake.world.new_message(channel, fake.bot_user_id, body)
    await fake.dispatch_message_event("MESSAGE_CREATE", channel, message)
    return json_response(message)


def message_of(request: web.Request, channel: Channel) -> dict[str, Any]:
    """The message named in the path (ephemeral messages are invisible to channel routes)."""
    message = channel.messages.get(request.match_info["message_id"])
    if message is None or int(message.get("flags") or 0) & EPHEMERAL:
        raise error(UNKNOWN_MESSAGE)
    return message


async def get_message(request: web.Request) -> web.Response:
    """GET /channels/{channel_id}/messages/{message_id}."""
    channel = channel_of(request)
    return json_response(message_of(request, channel))


async def list_messages(request: web.Request) -> web.Response:
    """GET /channels/{channel_id}/messages — newest first, ``limit`` (default 50), ``before``/``after``
    (ephemeral messages are not in the history)."""
    channel = channel_of(request)
    limit = min(int(request.query.get("limit", "50")), 100)
    before = request.query.get("before")
    after = request.query.get("after")
    visible = [m for m in channel.messages.values() if not int(m.get("flags") or 0) & EPHEMERAL]
    if before:
        visible = [m for m in visible if int(m["id"]) < int(before)]
    if after:  # the ``limit`` messages right after ``after``, newest first (as Discord answers)
        visible = [m for m in visible if int(m["id"]) > int(after)][:limit]
    visible.reverse()
    return json_response(visible[:limit])


async def edit_message(request: web.Request) -> web.Response:
    """PATCH /channels/{channel_id}/messages/{message_id} — only the bot's own messages."""
    fake = fake_of(request)
    channel = channel_of(request)
    message = message_of(request, channel)
    if message["author"]["id"] != fake.bot_user_id:
        raise error(NOT_AUTHOR)
    body = body_of(request) or {}
    check_message_body(body, creating=False)
    if not fake.old_edits.allow(channel.id, message["id"]):
        raise error(TOO_MANY_OLD_EDITS)
    fake.world.edit_message(message, body)
    await fake.dispatch_message_event("MESSAGE_UPDATE", channel, message)
    return json_response(message)


async def delete_message(request: web.Request) -> web.Response:
    """DELETE /channels/{channel_id}/messages/{message_id} — the bot's own messages; another's needs Manage
    Messages in a guild channel (the fake's bot has none) and is never possible in a DM."""
    fake = fake_of(request)
    channel = channel_of(request)
    message = message_of(request, channel)
    if message["author"]["id"] != fake.bot_user_id:
        raise error(CANNOT_IN_DM if channel.type == DM else MISSING_PERMISSIONS)
    del channel.messages[message["id"]]
    fake.deleted_messages.append(message)
    await fake.dispatch_message_event("MESSAGE_DELETE", channel, message)
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    """Register the DM and channel handlers (paths named exactly as in the OpenAPI spec)."""
    r = app.router
    r.add_post(PREFIX + "/users/@me/channels", open_dm)
    r.add_get(PREFIX + "/channels/{channel_id}", get_channel)
    r.add_post(PREFIX + "/channels/{channel_id}/typing", typing)
    r.add_get(PREFIX + "/channels/{channel_id}/messages", list_messages)
    r.add_post(PREFIX + "/channels/{channel_id}/messages", create_message)
    r.add_get(PREFIX + "/channels/{channel_id}/messages/{message_id}", get_message)
    r.add_patch(PREFIX + "/channels/{channel_id}/messages/{message_id}", edit_message)
    r.add_delete(PREFIX + "/channels/{channel_id}/messages/{message_id}", delete_message)
