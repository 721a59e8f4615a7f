"""The fake Discord's world: users, guilds, channels, messages, interactions and command registrations.

Everything is kept as plain dicts shaped like Discord's own JSON payloads, so the REST handlers and the
gateway can hand them to discord.py unchanged. Snowflakes are real ones (Discord epoch, increasing), so
discord.py's ``created_at`` works.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1420070400000

#: message flags
EPHEMERAL = 1 << 6
LOADING = 1 << 7

#: channel types
DM = 1
GUILD_TEXT = 0

_counter = itertools.count(1)


def new_snowflake() -> str:
    """A fresh, increasing snowflake id (as Discord sends it: a decimal string)."""
    now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return str((now_ms << 22) | (next(_counter) & 0x3FFFFF))


def iso_now() -> str:
    """The current time in Discord's ISO 8601 form."""
    return datetime.now(UTC).isoformat()


#: A member's computed permissions in interactions (``member.permissions``): no Manage Server (1 << 5).
DEFAULT_MEMBER_PERMISSIONS = 2248473465835073


@dataclass
class Interaction:
    """One interaction the fake sent to the bot (a click, a modal submit or a slash command).

    ``response`` is the callback body the bot posted (``{"type": 4|5|6|7|9, "data": ...}``) or ``None``;
    ``followups`` are snapshots of the webhook messages it sent afterwards; ``original_message_id`` is the message the
    response created (types 4/5) or the clicked message (types 6/7).
    """

    id: str
    token: str
    type: int
    data: dict[str, Any]
    user_id: str
    channel_id: str
    message_id: str | None
    guild_id: str | None
    created_monotonic: float
    payload: dict[str, Any] = field(repr=False, default_factory=dict)
    response: dict[str, Any] | None = None
    followup_ids: list[str] = field(default_factory=list)
    original_message_id: str | None = None
    responded: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _world: World | None = field(default=None, repr=False)

    @property
    def response_type(self) -> int | None:
        """The callback type the bot answered with (4, 5, 6, 7, 9), or ``None`` before it answered."""
        return None if self.response is None else int(self.response["type"])

    @property
    def response_data(self) -> dict[str, Any]:
        """The ``data`` of the callback (empty when none)."""
        if self.response is None:
            return {}
        data = self.response.get("data")
        return data if isinstance(data, dict) else {}

    @property
    def ephemeral(self) -> bool:
        """Whether the response message (type 4/5) is ephemeral (flag 64)."""
        return bool(int(self.response_data.get("flags") or 0) & EPHEMERAL)

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal the bot opened (callback type 9), or ``None``."""
        return self.response_data if self.response_type == 9 else None

    @property
    def followups(self) -> list[dict[str, Any]]:
        """Snapshots (current state, with ``edits`` and ``ephemeral``) of the followup messages, in order;
        a deleted followup is left out."""
        if self._world is None:
            return []
        found = (self._world.find_message(i) for i in self.followup_ids)
        return [self._world.snapshot(m) for m in found if m is not None]

    def original_message(self) -> dict[str, Any] | None:
        """A snapshot of the response message (or the clicked message for types 6/7), or ``None``."""
        if self._world is None or self.original_message_id is None:
            return None
        found = self._world.find_message(self.original_message_id)
        return None if found is None else self._world.snapshot(found)

    def all_texts(self) -> list[str]:
        """The contents of the response message and every followup, in order (handy for assertions)."""
        texts: list[str] = []
        original = self.original_message()
        if original is not None and self.response_type in (4, 5):
            texts.append(str(original.get("content") or ""))
        texts.extend(str(f.get("content") or "") for f in self.followups)
        return texts

    async def wait_responded(self, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """Wait until the bot posted its callback; returns the callback body."""
        await asyncio.wait_for(self.responded.wait(), timeout)
        assert self.response is not None
        return self.response


@dataclass
class Channel:
    """A DM or guild text channel and its messages (insertion-ordered)."""

    id: str
    type: int
    recipient_id: str | None = None
    guild_id: str | None = None
    name: str | None = None
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    typing_count: int = 0

    def payload(self, world: World) -> dict[str, Any]:
        """The channel object as Discord sends it."""
        last = next(reversed(self.messages), None) if self.messages else None
        if self.type == DM:
            assert self.recipient_id is not None
            return {
                "id": self.id,
                "type": DM,
                "last_message_id": last,
                "flags": 0,
                "recipients": [world.user_payload(self.recipient_id)],
            }
        return {
            "id": self.id,
            "type": self.type,
            "guild_id": self.guild_id,
            "name": self.name or "general",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": last,
            "rate_limit_per_user": 0,
            "flags": 0,
        }


class World:
    """All state of the fake: who exists, which channels, messages and interactions."""

    def __init__(self, bot_user_id: str, application_id: str, bot_name: str) -> None:
        self.bot_user_id = bot_user_id
        self.application_id = application_id
        self.users: dict[str, dict[str, Any]] = {}
        self.guilds: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, Channel] = {}
        self.dm_by_user: dict[str, str] = {}
        self.interactions: dict[str, Interaction] = {}
        self.interactions_by_token: dict[str, Interaction] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[str, list[dict[str, Any]]] = {}
        self.edits: dict[str, int] = {}
        self.users[bot_user_id] = {
            "id": bot_user_id,
            "username": bot_name,
            "global_name": None,
            "discriminator": "0",
            "avatar": None,
            "bot": True,
            "dms_open": True,
            "locale": "en-US",
        }

    # --- users -------------------------------------------------------------------------------------------
    def user_payload(self, user_id: str) -> dict[str, Any]:
        """A user object as Discord sends it (no internal fields)."""
        user = self.users[user_id]
        payload = {k: v for k, v in user.items() if k not in ("dms_open", "locale")}
        payload.setdefault("public_flags", 0)
        payload.setdefault("flags", 0)
        return payload

    def member_payload(self, guild_id: str, user_id: str) -> dict[str, Any]:
        """A guild member object (with ``user``) as Discord sends it."""
        guild = self.guilds[guild_id]
        roles = [rid for rid, members in guild["_role_members"].items() if user_id in members]
        return {
            "user": self.user_payload(user_id),
            "nick": None,
            "avatar": None,
            "roles": roles,
            "joined_at": guild["_joined_at"],
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "permissions": str(DEFAULT_MEMBER_PERMISSIONS | guild.get("_extra_permissions", {}).get(user_id, 0)),
        }

    # --- guilds ------------------------------------------------------------------------------------------
    def guild_payload(self, guild_id: str) -> dict[str, Any]:
        """A GUILD_CREATE payload for this guild (channels, roles, members)."""
        guild = self.guilds[guild_id]
        roles = [
            {
                "id": rid,
                "name": name,
                "color": 0,
                "hoist": False,
                "position": i,
                "permissions": "2248473465835073" if rid == guild_id else "0",
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
            for i, (rid, name) in enumerate(guild["_role_names"].items())
        ]
        members = [self.member_payload(guild_id, uid) for uid in sorted(guild["_members"] | {self.bot_user_id})]
        channels = [self.channels[cid].payload(self) for cid in guild["_channels"]]
        return {
            "id": guild_id,
            "name": guild["name"],
            "icon": None,
            "owner_id": guild["owner_id"],
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": roles,
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_flags": 0,
            "premium_tier": 0,
            "preferred_locale": guild["preferred_locale"],
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": guild["_joined_at"],
            "large": False,
            "unavailable": False,
            "member_count": len(members),
            "members": members,
            "channels": channels,
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    # --- channels & messages -----------------------------------------------------------------------------
    def open_dm(self, user_id: str) -> tuple[Channel, bool]:
        """The DM channel between the bot and this user, created when missing; (channel, created)."""
        existing = self.dm_by_user.get(user_id)
        if existing is not None:
            return self.channels[existing], False
        channel = Channel(id=new_snowflake(), type=DM, recipient_id=user_id)
        self.channels[channel.id] = channel
        self.dm_by_user[user_id] = channel.id
        return channel, True

    def new_message(
        self,
        channel: Channel,
        author_id: str,
        body: dict[str, Any],
        *,
        message_type: int = 0,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store a new message built from a create-message body; returns the stored message."""
        message: dict[str, Any] = {
            "id": new_snowflake(),
            "channel_id": channel.id,
            "type": message_type,
            "author": self.user_payload(author_id),
            "content": body.get("content") or "",
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts") or False),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": materialize_attachments(body.get("attachments") or [], []),
            "embeds": list(body.get("embeds") or []),
            "components": list(body.get("components") or []),
            "pinned": False,
            "flags": int(body.get("flags") or 0),
        }
        if channel.guild_id is not None:
            message["guild_id"] = channel.guild_id
        if extra:
            message.update(extra)
        channel.messages[message["id"]] = message
        self.edits[message["id"]] = 0
        return message

    def edit_message(self, message: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """Apply an edit body (content/embeds/components/flags/attachments) to a stored message."""
        if "attachments" in body:
            message["attachments"] = materialize_attachments(body["attachments"] or [], message["attachments"])
        for key in ("content", "embeds", "components"):
            if key in body:
                value = body[key]
                message[key] = ("" if value is None else value) if key == "content" else list(value or [])
        if "flags" in body and body["flags"] is not None:
            keep = int(message.get("flags") or 0) & EPHEMERAL
            message["flags"] = (int(body["flags"]) & ~LOADING) | keep
        else:
            message["flags"] = int(message.get("flags") or 0) & ~LOADING
        message["edited_timestamp"] = iso_now()
        self.edits[message["id"]] = self.edits.get(message["id"], 0) + 1
        return message

    def find_message(self, message_id: str) -> dict[str, Any] | None:
        """The stored message with this id, in any channel."""
        for channel in self.channels.values():
            found = channel.messages.get(message_id)
            if found is not None:
                return found
        return None

    def snapshot(self, message: dict[str, Any]) -> dict[str, Any]:
        """A deep copy of a message with the fake's bookkeeping: ``edits`` and ``ephemeral``."""
        copied = copy.deepcopy(message)
        copied["edits"] = self.edits.get(message["id"], 0)
        copied["ephemeral"] = bool(int(message.get("flags") or 0) & EPHEMERAL)
        return copied


def materialize_attachments(items: list[dict[str, Any]], existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attachments as Discord stores them: ids of ``existing`` ones are kept, upload slots (small ids
    pointing at ``files[n]``) become full attachment objects."""
    known = {str(a["id"]): a for a in existing}
    result = []
    for item in items:
        kept = known.get(str(item.get("id")))
        if kept is not None:
            result.append(kept)
            continue
        attachment_id = new_snowflake()
        filename = str(item.get("filename") or "file.bin")
        result.append(
            {
                "id": attachment_id,
                "filename": filename,
                "description": item.get("description"),
                "size": int(item.get("size") or 1),
                "url": f"https://cdn.invalid/attachments/{attachment_id}/{filename}",
                "proxy_url": f"https://media.invalid/attachments/{attachment_id}/{filename}",
                "content_type": item.get("content_type") or "application/octet-stream",
            }
        )
    return result


def find_component(components: list[dict[str, Any]], custom_id: str) -> dict[str, Any] | None:
    """The component with this ``custom_id`` anywhere in a message's component tree."""
    for component in components:
        if component.get("custom_id") == custom_id:
            return component
        for key in ("components", "accessory", "component"):
            inner = component.get(key)
            if isinstance(inner, dict):
                inner = [inner]
            if isinstance(inner, list):
                found = find_component(inner, custom_id)
                if found is not None:
                    return found
    return None
