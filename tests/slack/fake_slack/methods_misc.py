"""auth, conversations, users, team, assistant and views Web API methods."""

from __future__ import annotations

import secrets
import time
from typing import Any

from .blocks import BlockError, validate_blocks
from .core import FakeSlackBase
from .methods_chat import require, resolve_channel
from .state import JSON, FakeView, Workspace
from .web_api import ApiError, method

TRIGGER_TTL = 3.0


@method("auth.test")
def auth_test(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """Who the token belongs to."""
    return {
        "url": f"https://{ws.team_id.lower()}.slack.com/",
        "team": ws.name,
        "user": "interview-bot",
        "team_id": ws.team_id,
        "user_id": fake.bot_user_id,
        "bot_id": fake.bot_id,
        "app_id": fake.app_id,
        "is_enterprise_install": False,
    }


@method("team.info")
def team_info(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """The workspace."""
    return {"team": {"id": ws.team_id, "name": ws.name, "domain": ws.team_id.lower(), "email_domain": "", "icon": {}}}


@method("users.info")
def users_info(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """A user; `locale` only with include_locale=true."""
    user = ws.users.get(require(args, "user"))
    if user is None:
        raise ApiError("user_not_found")
    include_locale = str(args.get("include_locale", "")).lower() in ("1", "true")
    return {"user": user.to_api(include_locale=include_locale)}


@method("conversations.open")
def conversations_open(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """Open (or find) the DM with one user."""
    if args.get("channel"):
        channel = resolve_channel(fake, ws, str(args["channel"]))
        return {"channel": {"id": channel}, "no_op": True, "already_open": True}
    users = [u for u in str(require(args, "users")).split(",") if u]
    if len(users) != 1:
        raise ApiError("not_implemented")  # multi-person DMs are out of scope for this fake
    if users[0] == fake.bot_user_id:
        raise ApiError("cannot_dm_bot")
    if users[0] not in ws.users:
        raise ApiError("user_not_found")
    existed = users[0] in ws.dm_channels
    channel = fake.dm_channel_of(users[0], ws.team_id)
    body: JSON = {"channel": {"id": channel}}
    if existed:
        body.update(no_op=True, already_open=True)
    if str(args.get("return_im", "")).lower() in ("1", "true"):
        body["channel"].update(is_im=True, user=users[0], created=int(time.time()))
    return body


@method("conversations.info")
def conversations_info(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """A channel; DMs carry `is_im` and `user`."""
    channel = resolve_channel(fake, ws, require(args, "channel"))
    user = ws.user_of_dm(channel)
    return {"channel": {"id": channel, "is_im": user is not None, "user": user, "is_member": True}}


@method("conversations.history")
def conversations_history(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """Top-level messages of a channel, newest first."""
    channel = resolve_channel(fake, ws, require(args, "channel"))
    top = [m for m in ws.messages[channel] if m.thread_ts in (None, m.ts)]
    return {"messages": [m.to_api(ws.team_id, fake.app_id) for m in reversed(top)], "has_more": False}


@method("conversations.replies")
def conversations_replies(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """A thread: its parent then the replies, oldest first."""
    channel = resolve_channel(fake, ws, require(args, "channel"))
    ts = require(args, "ts")
    thread = [m for m in ws.messages[channel] if ts in (m.ts, m.thread_ts)]
    if not thread:
        raise ApiError("thread_not_found")
    return {"messages": [m.to_api(ws.team_id, fake.app_id) for m in thread], "has_more": False}


@method("assistant.threads.setStatus")
def set_status(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """Set ("is thinking…") or clear ("") the status of a thread."""
    channel = resolve_channel(fake, ws, require(args, "channel_id"))
    thread_ts = require(args, "thread_ts")
    if "status" not in args:
        raise ApiError("invalid_arguments")
    loading = args.get("loading_messages") or []
    if isinstance(loading, str):
        loading = [part for part in loading.split(",") if part]
    if not isinstance(loading, list) or len(loading) > 10:  # "Maximum of 10 messages"
        raise ApiError("invalid_arguments")
    ws.thread_status.setdefault((channel, thread_ts), []).append(str(args["status"] or ""))
    ws.loading_messages.setdefault((channel, thread_ts), []).append([str(m) for m in loading])
    return {}


@method("assistant.threads.setTitle")
def set_title(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """Title of an assistant thread (see `fake.assistant_threads`)."""
    channel = resolve_channel(fake, ws, require(args, "channel_id"))
    key = (channel, require(args, "thread_ts"))
    fake.assistant_threads.setdefault(key, {})["title"] = require(args, "title")
    return {}


@method("assistant.threads.setSuggestedPrompts")
def set_suggested_prompts(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """Suggested prompts of an assistant thread (at most 4, like Slack)."""
    channel = resolve_channel(fake, ws, require(args, "channel_id"))
    prompts = args.get("prompts")
    if not isinstance(prompts, list) or not 1 <= len(prompts) <= 4:
        raise ApiError("invalid_arguments")
    key = (channel, str(args.get("thread_ts") or ""))
    fake.assistant_threads.setdefault(key, {}).update(prompts=prompts, prompts_title=args.get("title"))
    return {}


def _view_arg(args: JSON, expected: str) -> JSON:
    view = args.get("view")
    if not isinstance(view, dict):
        raise ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: view"]})
    if view.get("type") != expected:
        raise ApiError("invalid_arguments", response_metadata={"messages": [f"[ERROR] view type must be {expected}"]})
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        raise ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: blocks"]})
    try:
        validate_blocks(blocks, in_view=True)
        for key, limit in (("title", 24), ("submit", 24), ("close", 24)):
            title = view.get(key)
            if key == "title" and expected == "modal" and title is None:
                raise BlockError("invalid_arguments", "missing required field: title")
            if title is not None and (not isinstance(title, dict) or len(str(title.get("text", ""))) > limit):
                raise BlockError(
                    "invalid_arguments", f"must be less than {limit + 1} characters [json-pointer:/view/{key}]"
                )
        if len(str(view.get("private_metadata", ""))) > 3000:
            raise BlockError(
                "invalid_arguments", "must be less than 3001 characters [json-pointer:/view/private_metadata]"
            )
    except BlockError as exc:  # views answer invalid_arguments for block errors too
        raise ApiError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {exc.detail}"]}) from exc
    return view


def _new_view(fake: FakeSlackBase, user_id: str, view: JSON, kind: str, previous: str | None = None) -> FakeView:
    fv = FakeView(fake.ids.next_id("V"), user_id, view, secrets.token_hex(6), kind, previous_view_id=previous)
    fake.views[fv.id] = fv
    return fv


def _use_trigger(fake: FakeSlackBase, args: JSON) -> str:
    trigger = fake.triggers.get(require(args, "trigger_id"))
    if trigger is None:
        raise ApiError("invalid_trigger_id")
    if time.monotonic() - trigger[2] > TRIGGER_TTL:
        raise ApiError("expired_trigger_id")
    return trigger[1]


def _record(fake: FakeSlackBase, ws: Workspace, fv: FakeView, action: str) -> JSON:
    api = fv.to_api(ws.team_id, fake.app_id, fake.bot_id)
    if fv.type == "modal":
        fake.opened_views.append({"action": action, "id": fv.id, "user_id": fv.user_id, "view": api})
    return {"view": api}


@method("views.publish")
def views_publish(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """Publish a user's Home tab; `hash` must match the current one when given."""
    user_id = require(args, "user_id")
    if user_id not in ws.users:
        raise ApiError("user_not_found")
    view = _view_arg(args, "home")
    current = ws.home_views.get(user_id)
    if args.get("hash") and current is not None and args["hash"] != current.hash:
        raise ApiError("hash_conflict")
    fv = _new_view(fake, user_id, view, "home") if current is None else current
    fv.view, fv.hash = view, secrets.token_hex(6)
    ws.home_views[user_id] = fv
    return _record(fake, ws, fv, "publish")


@method("views.open")
def views_open(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """Open a modal for the user whose click or command issued the trigger_id (valid 3 s)."""
    user_id = _use_trigger(fake, args)
    fv = _new_view(fake, user_id, _view_arg(args, "modal"), "modal")
    fake.modal_stacks[user_id] = [fv.id]
    return _record(fake, ws, fv, "open")


@method("views.push")
def views_push(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """Push a modal onto the user's open stack."""
    user_id = _use_trigger(fake, args)
    stack = fake.modal_stacks.setdefault(user_id, [])
    fv = _new_view(fake, user_id, _view_arg(args, "modal"), "modal", previous=stack[-1] if stack else None)
    stack.append(fv.id)
    return _record(fake, ws, fv, "push")


@method("views.update")
def views_update(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """Replace an open view by view_id (or external_id); `hash` must match when given."""
    fv: FakeView | None = None
    if args.get("view_id"):
        fv = fake.views.get(str(args["view_id"]))
    elif args.get("external_id"):
        fv = next((v for v in fake.views.values() if v.view.get("external_id") == args["external_id"]), None)
    if fv is None or fv.closed:
        raise ApiError("not_found")
    view = _view_arg(args, fv.type)
    if args.get("hash") and args["hash"] != fv.hash:
        raise ApiError("hash_conflict")
    fv.view, fv.hash = view, secrets.token_hex(6)
    return _record(fake, ws, fv, "update")


@method("apps.connections.open")
def connections_open(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """A Socket Mode WebSocket URL (app-level token only)."""
    url: Any = getattr(fake, "socket_url", None)
    if not url:
        raise ApiError("not_allowed_token_type")
    return {"url": f"{url}?ticket={secrets.token_hex(8)}"}
