"""Builders of the payloads Slack sends to apps: event envelopes, block_actions, view state, slash commands."""

from __future__ import annotations

import time
import uuid
from typing import Any

from .state import JSON, FakeMessage, FakeUser

STATEFUL = {"static_select", "multi_static_select", "radio_buttons", "checkboxes", "overflow", "plain_text_input"}


def rich_text(text: str) -> list[JSON]:
    """The rich_text block Slack attaches to a user's message."""
    return [
        {
            "type": "rich_text",
            "block_id": uuid.uuid4().hex[:5],
            "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
        }
    ]


def message_event(msg: FakeMessage, team_id: str, files: int, parent_user: str | None) -> JSON:
    """A `message` event in a DM (`channel_type: im`), as the message.im subscription delivers it."""
    event: JSON = {
        "type": "message",
        "user": msg.user,
        "text": msg.text,
        "ts": msg.ts,
        "team": team_id,
        "channel": msg.channel,
        "event_ts": msg.ts,
        "channel_type": "im",
        "client_msg_id": str(uuid.uuid4()),
        "blocks": msg.blocks or [],
    }
    if msg.thread_ts:
        event["thread_ts"] = msg.thread_ts
        if parent_user:
            event["parent_user_id"] = parent_user
    if files:
        event["subtype"] = "file_share"
        event["upload"] = False
        event["files"] = [
            {
                "id": f"F{uuid.uuid4().hex[:9].upper()}",
                "name": f"attachment-{i + 1}.png",
                "title": f"attachment-{i + 1}.png",
                "mimetype": "image/png",
                "filetype": "png",
                "size": 1024,
                "user": msg.user,
                "url_private": f"https://files.slack.com/files-pri/{team_id}/attachment-{i + 1}.png",
            }
            for i in range(files)
        ]
    return event


def envelope(event: JSON, *, team_id: str, app_id: str, bot_user_id: str, token: str, event_id: str) -> JSON:
    """The `event_callback` wrapper of the Events API."""
    return {
        "token": token,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authed_users": [bot_user_id],
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{uuid.uuid4().hex}",
    }


def bot_message_event(msg: FakeMessage, team_id: str, app_id: str) -> JSON:
    """The `message` event Slack sends an app subscribed to message.im for the app's own post."""
    event = msg.to_api(team_id, app_id)
    event.update({"channel": msg.channel, "event_ts": msg.ts, "channel_type": "im"})
    event["bot_profile"] = {"id": msg.bot_id, "app_id": app_id, "name": "interview-bot", "team_id": team_id}
    return event


def user_ref(user: FakeUser) -> JSON:
    """The `user` object of interaction payloads."""
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": user.team_id}


def find_element(blocks: list[JSON] | None, action_id: str) -> tuple[str, JSON] | None:
    """(block_id, element) of the element with this action_id (in actions blocks, accessories, inputs)."""
    for block in blocks or []:
        candidates = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        if isinstance(block.get("element"), dict):
            candidates.append(block["element"])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return str(block.get("block_id") or ""), element
    return None


def options_of(element: JSON) -> list[JSON]:
    """All options of a select / radio / checkboxes element (option groups flattened)."""
    if "option_groups" in element:
        return [o for g in element["option_groups"] for o in g.get("options", [])]
    return list(element.get("options") or [])


def selection(element: JSON, value: str | None, selected: list[str] | None) -> JSON:
    """The state value of a stateful element after the user picks `selected` (or `value`)."""
    kind = element.get("type")
    picked = selected if selected is not None else ([value] if value is not None else [])
    if kind == "plain_text_input":
        return {"type": kind, "value": value if value is not None else (picked[0] if picked else None)}
    by_value = {o.get("value"): o for o in options_of(element)}
    unknown = [v for v in picked if v not in by_value]
    if unknown:
        raise LookupError(f"no option with value {unknown} in {element.get('action_id')}")
    options = [{"text": by_value[v]["text"], "value": v} for v in picked]
    if kind in ("multi_static_select", "checkboxes"):
        return {"type": kind, "selected_options": options}
    return {"type": kind, "selected_option": options[0] if options else None}


def action_for(element: JSON, block_id: str, value: str | None, selected: list[str] | None) -> JSON:
    """One entry of `actions` in a block_actions payload."""
    kind = element.get("type")
    action: JSON = {"type": kind, "action_id": element.get("action_id"), "block_id": block_id}
    action["action_ts"] = f"{time.time():.6f}"
    if kind == "button":
        action["text"] = element.get("text")
        chosen = value if value is not None else element.get("value")
        if chosen is not None:
            action["value"] = chosen
        if "style" in element:
            action["style"] = element["style"]
    else:
        action.update({k: v for k, v in selection(element, value, selected).items() if k != "type"})
        if "placeholder" in element:
            action["placeholder"] = element["placeholder"]
    return action


def state_values(blocks: list[JSON] | None, remembered: dict[tuple[str, str], JSON]) -> JSON:
    """`state.values` for every stateful element in the blocks: what the user picked, or empty."""
    values: dict[str, Any] = {}
    for block in blocks or []:
        block_id = str(block.get("block_id") or "")
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                elements.append(block[key])
        for element in elements:
            kind = element.get("type")
            if kind not in STATEFUL or kind == "overflow":
                continue
            action_id = str(element.get("action_id") or "")
            state = remembered.get((block_id, action_id))
            if state is None:
                state = selection(element, None, [])
                if kind == "plain_text_input":
                    state["value"] = None
            values.setdefault(block_id, {})[action_id] = state
    return values
