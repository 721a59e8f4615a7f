"""In-memory state of the fake Slack workspace: users, DM channels, messages, views, recorded calls."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass
class RecordedCall:
    """One Web API call as the fake saw it: merged arguments (token removed) and what it answered."""

    method: str
    args: JSON
    status: int
    response: JSON
    team_id: str | None
    at: float = field(default_factory=time.monotonic)


@dataclass
class FakeUser:
    """A human member of the workspace."""

    id: str
    name: str
    team_id: str
    locale: str
    tz: str
    email: str = ""
    deleted: bool = False  # deactivated
    is_bot: bool = False

    def to_api(self, include_locale: bool = False) -> JSON:
        """The `user` object as `users.info` returns it."""
        user: JSON = {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "real_name": self.name,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": 3600 if self.tz == "Europe/Berlin" else 0,
            "profile": {
                "real_name": self.name,
                "display_name": self.name,
                "team": self.team_id,
                **({"email": self.email} if self.email else {}),
            },
        }
        if include_locale:
            user["locale"] = self.locale
        return user


@dataclass
class FakeMessage:
    """A message in a channel, in its current state; `versions` keeps earlier (text, blocks) pairs."""

    channel: str
    ts: str
    text: str
    blocks: list[JSON] | None
    user: str
    bot_id: str | None = None
    thread_ts: str | None = None
    metadata: JSON | None = None
    streaming: str | None = None  # None (ordinary message) | "streaming" | "stopped"
    stream_started: float = 0.0
    stream_expired: bool = False
    appends: int = 0  # successful chat.appendStream calls
    chunks: list[JSON] = field(default_factory=list)
    update_count: int = 0
    versions: list[tuple[str, list[JSON] | None]] = field(default_factory=list)
    markdown: bool = False  # `text` is standard Markdown (streamed, or sent as `markdown_text`), not mrkdwn
    files: list[JSON] = field(default_factory=list)  # files shared with the message (files.completeUploadExternal)

    def to_api(self, team_id: str, app_id: str | None = None) -> JSON:
        """The message object as Slack shows it in API answers and interaction payloads."""
        msg: JSON = {"type": "message", "user": self.user, "text": self.text, "ts": self.ts, "team": team_id}
        if self.blocks is not None:
            msg["blocks"] = self.blocks
        if self.bot_id:
            msg["bot_id"] = self.bot_id
            if app_id:
                msg["app_id"] = app_id
        if self.thread_ts:
            msg["thread_ts"] = self.thread_ts
        if self.files:
            msg["files"] = self.files
        if self.metadata:
            msg["metadata"] = self.metadata
        return msg

    def snapshot(self) -> JSON:
        """A test-friendly view of the current state (see `FakeSlack.messages`)."""
        return {
            "channel": self.channel,
            "ts": self.ts,
            "thread_ts": self.thread_ts,
            "user": self.user,
            "bot": self.bot_id is not None,
            "text": self.text,
            "blocks": self.blocks,
            "metadata": self.metadata,
            "streaming": self.streaming,
            "stream_expired": self.stream_expired,
            "chunks": list(self.chunks),
            "update_count": self.update_count,
            "versions": list(self.versions),
            "markdown": self.markdown,
        }


@dataclass
class FakeView:
    """A published Home tab or an opened modal."""

    id: str
    user_id: str
    view: JSON
    hash: str
    type: str
    closed: bool = False
    previous_view_id: str | None = None

    def to_api(self, team_id: str, app_id: str, bot_id: str) -> JSON:
        """The `view` object as Slack returns it (blocks, state, hash, ids)."""
        body = dict(self.view)
        body.update(
            {
                "id": self.id,
                "team_id": team_id,
                "app_id": app_id,
                "bot_id": bot_id,
                "hash": self.hash,
                "type": self.type,
                "state": {"values": {}},
                "previous_view_id": self.previous_view_id,
                "root_view_id": self.id,
            }
        )
        body.setdefault("private_metadata", "")
        body.setdefault("callback_id", "")
        body.setdefault("external_id", "")
        return body


class IdFactory:
    """Slack-looking ids and strictly increasing message timestamps."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._last_ts = 0.0

    def next_id(self, prefix: str) -> str:
        """An id like `D0000007` or `Ev0000012`."""
        return f"{prefix}{next(self._counter):07d}"

    def next_ts(self) -> str:
        """A message ts (`seconds.micros`), unique and increasing."""
        now = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"


@dataclass
class Workspace:
    """One workspace (team) with the app installed in it."""

    team_id: str
    name: str
    bot_token: str
    removed: str | None = None  # error every call answers once the app is removed
    users: dict[str, FakeUser] = field(default_factory=dict)
    dm_channels: dict[str, str] = field(default_factory=dict)  # user id -> D channel
    channel_members: dict[str, list[str]] = field(default_factory=dict)  # channel id -> member ids
    private_channels: set[str] = field(default_factory=set)  # channels that are private (groups:* scopes)
    messages: dict[str, list[FakeMessage]] = field(default_factory=dict)  # channel -> messages
    ephemerals: dict[str, list[JSON]] = field(default_factory=dict)  # user id -> ephemeral messages
    home_views: dict[str, FakeView] = field(default_factory=dict)  # user id -> home view
    thread_status: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    loading_messages: dict[tuple[str, str], list[list[str]]] = field(default_factory=dict)

    def find_message(self, channel: str, ts: str) -> FakeMessage | None:
        """The message with this ts in the channel, if any."""
        for msg in self.messages.get(channel, []):
            if msg.ts == ts:
                return msg
        return None

    def user_of_dm(self, channel: str) -> str | None:
        """The human whose DM with the app this channel is."""
        for user_id, dm in self.dm_channels.items():
            if dm == channel:
                return user_id
        return None
