"""Finding people: `users.lookupByEmail`, `users.list` and `conversations.members`, as Slack documents them.

`users.lookupByEmail` (Tier 3) answers `users_not_found` for an address nobody in the workspace has, and
`invalid_email` for something that is not an address. `conversations.members` (Tier 4) pages with `cursor` and
`limit` (at most 1,000, default 100) and answers `channel_not_found` for a channel the app cannot see, and
`invalid_cursor` for a cursor it never gave. `users.list` (Tier 2) pages the same way and lists bots and
deactivated accounts too.
"""

from __future__ import annotations

import base64

from .core import FakeSlackBase
from .methods_chat import require
from .state import JSON, Workspace
from .web_api import ApiError, method

MAX_PAGE = 1000
DEFAULT_PAGE = 100


@method("users.lookupByEmail")
def users_lookup_by_email(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """The member with this email address."""
    email = str(require(args, "email")).strip()
    if "@" not in email:
        raise ApiError("invalid_email")
    for user in ws.users.values():
        if user.email and user.email.lower() == email.lower():
            return {"user": user.to_api()}
    raise ApiError("users_not_found")


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind != "offset":
            raise ValueError(kind)
        return int(value)
    except ValueError as exc:
        raise ApiError("invalid_cursor") from exc


@method("conversations.members")
def conversations_members(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """One page of a channel's members."""
    channel = str(require(args, "channel"))
    if channel not in ws.channel_members:
        raise ApiError("channel_not_found")
    members = ws.channel_members[channel]
    limit = min(int(args.get("limit") or DEFAULT_PAGE), MAX_PAGE)
    start = _offset(str(args["cursor"])) if args.get("cursor") else 0
    page = members[start : start + limit]
    more = start + limit < len(members)
    return {"members": page, "response_metadata": {"next_cursor": _cursor(start + limit) if more else ""}}


@method("users.list")
def users_list(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """One page of the workspace's members, bots and deactivated accounts included (as Slack lists them)."""
    members = list(ws.users.values())
    limit = min(int(args.get("limit") or MAX_PAGE), MAX_PAGE)
    start = _offset(str(args["cursor"])) if args.get("cursor") else 0
    page = members[start : start + limit]
    more = start + limit < len(members)
    return {
        "members": [user.to_api() for user in page],
        "response_metadata": {"next_cursor": _cursor(start + limit) if more else ""},
    }
