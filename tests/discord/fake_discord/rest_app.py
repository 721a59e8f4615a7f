"""REST handlers for users, the gateway URL, the application, guilds/members and application commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .recording import UNKNOWN_GUILD, UNKNOWN_MEMBER, UNKNOWN_USER, DiscordError, error
from .rest import PREFIX, body_of, fake_of, json_response
from .state import new_snowflake

if TYPE_CHECKING:
    from .fake import FakeDiscord


# --- users, gateway, application ------------------------------------------------------------------------
async def get_me(request: web.Request) -> web.Response:
    """GET /users/@me — the bot user."""
    fake = fake_of(request)
    me = fake.world.user_payload(fake.bot_user_id)
    me.update({"verified": True, "mfa_enabled": False, "email": None, "bot": True})
    return json_response(me)


async def get_user(request: web.Request) -> web.Response:
    """GET /users/{user_id}."""
    world = fake_of(request).world
    user_id = request.match_info["user_id"]
    if user_id not in world.users:
        raise error(UNKNOWN_USER)
    return json_response(world.user_payload(user_id))


async def get_gateway(request: web.Request) -> web.Response:
    """GET /gateway and /gateway/bot — the gateway URL (sharded clients ask)."""
    fake = fake_of(request)
    body: dict[str, Any] = {"url": fake.gateway_url}
    if request.path.endswith("/bot"):
        body.update(
            shards=1,
            session_start_limit={"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
        )
    return json_response(body)


async def get_application(request: web.Request) -> web.Response:
    """GET /oauth2/applications/@me and /applications/@me — the application (discord.py asks at login)."""
    fake = fake_of(request)
    return json_response(
        {
            "id": fake.application_id,
            "name": fake.world.users[fake.bot_user_id]["username"],
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": fake.world.user_payload(fake.bot_user_id),
            "team": None,
            "bot": fake.world.user_payload(fake.bot_user_id),
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": len(fake.world.guilds),
        }
    )


# --- guilds ---------------------------------------------------------------------------------------------
async def get_member(request: web.Request) -> web.Response:
    """GET /guilds/{guild_id}/members/{user_id} — 404/10007 once the member left."""
    world = fake_of(request).world
    guild = world.guilds.get(request.match_info["guild_id"])
    if guild is None:
        raise error(UNKNOWN_GUILD)
    user_id = request.match_info["user_id"]
    if user_id not in guild["_members"] and user_id != world.bot_user_id:
        raise error(UNKNOWN_MEMBER)
    return json_response(world.member_payload(guild["id"], user_id))


async def get_guild(request: web.Request) -> web.Response:
    """GET /guilds/{guild_id}."""
    world = fake_of(request).world
    if request.match_info["guild_id"] not in world.guilds:
        raise error(UNKNOWN_GUILD)
    payload = world.guild_payload(request.match_info["guild_id"])
    for key in ("members", "channels", "threads", "presences", "voice_states", "member_count", "large"):
        payload.pop(key, None)
    return json_response(payload)


# --- application commands -------------------------------------------------------------------------------
def _store_commands(fake: FakeDiscord, commands: list[dict[str, Any]], guild_id: str | None) -> list[dict[str, Any]]:
    stored = []
    for command in commands:
        entry = dict(command)
        entry.setdefault("type", 1)
        entry.setdefault("description", "")
        entry.setdefault("options", [])
        entry.setdefault("default_member_permissions", None)
        entry.setdefault("nsfw", False)
        entry.update(id=new_snowflake(), application_id=fake.application_id, version=new_snowflake())
        if guild_id is not None:
            entry["guild_id"] = guild_id
        stored.append(entry)
    return stored


async def put_commands(request: web.Request) -> web.Response:
    """PUT /applications/{application_id}[/guilds/{guild_id}]/commands — bulk overwrite (what ``tree.sync`` does)."""
    fake = fake_of(request)
    if request.match_info["application_id"] != fake.application_id:
        raise DiscordError(403, 50001, "Missing Access")
    guild_id = request.match_info.get("guild_id")
    stored = _store_commands(fake, list(body_of(request) or []), guild_id)
    if guild_id is None:
        fake.world.global_commands = stored
    else:
        fake.world.guild_commands[guild_id] = stored
    return json_response(stored)


async def get_commands(request: web.Request) -> web.Response:
    """GET /applications/{application_id}[/guilds/{guild_id}]/commands."""
    fake = fake_of(request)
    guild_id = request.match_info.get("guild_id")
    commands = fake.world.global_commands if guild_id is None else fake.world.guild_commands.get(guild_id, [])
    return json_response(commands)


def add_routes(app: web.Application) -> None:
    """Register the handlers of this module (paths named exactly as in the OpenAPI spec)."""
    r = app.router
    r.add_get(PREFIX + "/users/@me", get_me)
    r.add_get(PREFIX + "/users/{user_id}", get_user)
    r.add_get(PREFIX + "/gateway", get_gateway)
    r.add_get(PREFIX + "/gateway/bot", get_gateway)
    r.add_get(PREFIX + "/oauth2/applications/@me", get_application)
    r.add_get(PREFIX + "/applications/@me", get_application)
    r.add_get(PREFIX + "/guilds/{guild_id}", get_guild)
    r.add_get(PREFIX + "/guilds/{guild_id}/members/{user_id}", get_member)
    for base in (
        "/applications/{application_id}/commands",
        "/applications/{application_id}/guilds/{guild_id}/commands",
    ):
        r.add_put(PREFIX + base, put_commands)
        r.add_get(PREFIX + base, get_commands)
