"""The fake's state and inspection helpers, shared by the Web API handlers and the user-side simulation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from tests.waiting import wait_until

from .delivery import Delivery
from .ratelimit import RateLimiter, RateStats
from .render import render_message
from .state import JSON, FakeMessage, FakeUser, FakeView, IdFactory, RecordedCall, Workspace

REMOVAL_ERRORS = ("account_inactive", "invalid_auth", "token_revoked", "channel_not_found")


class FakeSlackBase:
    """State of one fake Slack: the app installed in one workspace (more with `add_workspace`)."""

    def __init__(
        self,
        *,
        signing_secret: str = "fake-signing-secret",
        team_id: str = "T0FAKE0001",
        team_name: str = "Fake Workspace",
        stream_ttl: float = 300.0,
        rate_limits: bool = True,
        verification_token: str = "fake-verification-token",
    ) -> None:
        self.signing_secret = signing_secret
        self.verification_token = verification_token
        self.ids = IdFactory()
        self.app_id = "A0FAKEAPP1"
        self.bot_user_id = "U0FAKEBOT1"
        self.bot_id = "B0FAKEBOT1"
        self.app_token = "xapp-1-A0FAKEAPP1-fake-app-token"
        self.stream_ttl = stream_ttl
        self.stream_append_limit: int | None = None  # expire every stream after this many appends (deterministic)
        # channels whose type Slack does not stream into: the streaming methods answer channel_type_not_supported
        self.unstreamable_channels: set[str] = set()
        self.ack_timeout = 3.0
        self.granted_scopes: set[str] | None = None  # bot scopes of the install (None: all); see scopes.py
        self.rate = RateLimiter(enabled=rate_limits)
        self.calls: list[RecordedCall] = []
        self.deliveries: list[Delivery] = []
        self.workspaces: dict[str, Workspace] = {}
        self.views: dict[str, FakeView] = {}  # view id -> view (home tabs and modals)
        self.modal_stacks: dict[str, list[str]] = {}  # user id -> open modal view ids, bottom first
        self.opened_views: list[JSON] = []
        self.assistant_threads: dict[tuple[str, str], JSON] = {}  # (channel, thread_ts) -> title, prompts
        self.triggers: dict[str, tuple[str, str, float]] = {}  # trigger id -> (team, user, issued at)
        self.forced_errors: dict[str, list[str]] = {}
        self.forced_http: dict[str, list[int]] = {}
        self.lost_answers: dict[str, int] = {}  # method -> calls whose answer is lost after Slack acted on them
        self.latency: dict[str, float] = {}
        self.events_url: str | None = None
        self.request_urls: dict[str, str] = {}  # kind ("interactive", "command") -> URL when not events_url
        self.auto_retries = 0  # redeliver failed events up to this many times, like Slack (3)
        self.retry_delays = [0.05, 0.1, 0.2]  # seconds before each redelivery (Slack: ~0 s, 1 min, 5 min)
        self.echo_bot_messages = False  # deliver message events for the app's own DM posts, as Slack does
        self.api_url = ""
        self.base_url = ""
        self._changed = asyncio.Event()
        self.add_workspace(team_id, team_name)
        self.team_id = team_id
        self.bot_token = self.workspaces[team_id].bot_token

    # ---- setup -------------------------------------------------------------------------------------------
    def add_workspace(self, team_id: str, name: str | None = None) -> Workspace:
        """Install the app in another workspace; its bot token is `fake.workspace(team_id).bot_token`."""
        ws = Workspace(team_id=team_id, name=name or team_id, bot_token=f"xoxb-fake-{team_id}-token")
        self.workspaces[team_id] = ws
        return ws

    def workspace(self, team_id: str | None = None) -> Workspace:
        """A workspace by id (the default one when None)."""
        return self.workspaces[team_id or self.team_id]

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        locale: str = "en-US",
        tz: str = "Europe/Berlin",
        team_id: str | None = None,
        email: str = "",
        deleted: bool = False,
        is_bot: bool = False,
    ) -> JSON:
        """Add a member to the workspace (a human unless ``is_bot``); returns the `users.info` user object."""
        ws = self.workspace(team_id)
        user = FakeUser(
            id=user_id, name=name, team_id=ws.team_id, locale=locale, tz=tz, email=email, deleted=deleted, is_bot=is_bot
        )
        ws.users[user_id] = user
        return user.to_api(include_locale=True)

    def set_events_url(
        self, url: str, *, interactivity_url: str | None = None, commands_url: str | None = None
    ) -> None:
        """Where events, interactions and slash commands are POSTed (the Bolt app's HTTP endpoint).

        Slack lets an app name separate Request URLs for interactivity and slash commands; by default all go to `url`.
        """
        self.events_url = url
        self.request_urls = {"interactive": interactivity_url or url, "command": commands_url or url}

    def dm_channel_of(self, user_id: str, team_id: str | None = None) -> str:
        """The app's DM channel with this user (created on first use, as conversations.open would)."""
        ws = self.workspace(team_id)
        if user_id not in ws.users:
            raise KeyError(f"unknown user {user_id}; call add_user first")
        if user_id not in ws.dm_channels:
            channel = self.ids.next_id("D")
            ws.dm_channels[user_id] = channel
            ws.messages[channel] = []
        return ws.dm_channels[user_id]

    # ---- knobs -------------------------------------------------------------------------------------------
    def set_tier_limit(self, method: str, per_minute: int, *, window: float = 60.0) -> None:
        """Allow `per_minute` calls of `method` per workspace per `window` seconds (default a minute)."""
        self.rate.set_limit(method, per_minute, window)

    def force_429(self, method: str, count: int = 1, retry_after: int = 1) -> None:
        """The next `count` calls of `method` ("*" for any) answer HTTP 429 with this Retry-After."""
        self.rate.force_429(method, count, retry_after)

    def rate_stats(self, method: str) -> RateStats:
        """Accepted and refused calls of a method and the most calls seen in one window."""
        return self.rate.stats.get(method, RateStats())

    def force_error(self, method: str, error: str, count: int = 1) -> None:
        """The next `count` calls of `method` answer `{"ok": false, "error": error}` (HTTP 200)."""
        self.forced_errors.setdefault(method, []).extend([error] * count)

    def force_http_error(self, method: str, status: int = 503, count: int = 1) -> None:
        """The next `count` calls of `method` answer HTTP `status` (5xx): service_unavailable or internal_error."""
        self.forced_http.setdefault(method, []).extend([status] * count)

    def lose_answers(self, method: str, count: int = 1) -> None:
        """The next `count` calls of `method` take effect (a post is in the channel), then the connection drops
        before the answer, as when the network fails after Slack acted: the app cannot know whether it worked."""
        self.lost_answers[method] = self.lost_answers.get(method, 0) + count

    def set_latency(self, method: str, seconds: float) -> None:
        """Delay every answer of `method` ("*" for all) by `seconds`."""
        self.latency[method] = seconds

    def remove_app(self, team_id: str | None = None, error: str = "account_inactive") -> None:
        """The app is uninstalled: every Web API call of that workspace answers `error`.

        `error` is one of account_inactive (default), invalid_auth, token_revoked, or channel_not_found
        (token still accepted, every call naming a channel or user fails as the DM is gone).
        """
        if error not in REMOVAL_ERRORS:
            raise ValueError(f"error must be one of {REMOVAL_ERRORS}")
        self.workspace(team_id).removed = error

    def expire_stream(self, channel: str, ts: str, team_id: str | None = None) -> None:
        """End the stream of this message now, as if `stream_ttl` had passed."""
        msg = self.workspace(team_id).find_message(channel, ts)
        if msg is None or msg.streaming != "streaming":
            raise KeyError(f"no live stream {channel}/{ts}")
        msg.streaming = "expired"
        msg.stream_expired = True

    def on_bot_message(self, msg: FakeMessage, team_id: str) -> None:
        """Called after the app posts a message (the user side echoes it as an event when enabled)."""

    # ---- inspection --------------------------------------------------------------------------------------
    def refresh_stream(self, msg: FakeMessage) -> None:
        """Mark a stream expired once `stream_ttl` has passed since chat.startStream."""
        if msg.streaming == "streaming" and time.monotonic() - msg.stream_started > self.stream_ttl:
            msg.streaming = "expired"
            msg.stream_expired = True

    def messages(self, channel_id: str, thread_ts: str | None = None, team_id: str | None = None) -> list[JSON]:
        """Current messages of a channel, oldest first (the users' and the app's).

        With `thread_ts`: the thread's parent and its replies only. Each is a dict with channel, ts,
        thread_ts, user, bot (sent by the app), text, blocks, metadata, streaming (None | "streaming" |
        "stopped" | "expired"), stream_expired, chunks (streamed chunks), update_count and versions
        (earlier (text, blocks) pairs).
        """
        result = []
        for msg in self.workspace(team_id).messages.get(channel_id, []):
            if thread_ts is not None and thread_ts not in (msg.ts, msg.thread_ts):
                continue
            self.refresh_stream(msg)
            result.append(msg.snapshot())
        return result

    def bot_messages(self, channel_id: str, thread_ts: str | None = None) -> list[JSON]:
        """Like `messages`, only those the app sent."""
        return [m for m in self.messages(channel_id, thread_ts) if m["bot"]]

    def ephemerals(self, user_id: str, team_id: str | None = None) -> list[JSON]:
        """Ephemeral messages shown to this user (chat.postEphemeral, slash command and response_url answers)."""
        return list(self.workspace(team_id).ephemerals.get(user_id, []))

    def home_view(self, user_id: str, team_id: str | None = None) -> JSON | None:
        """The Home tab last published for this user (the `view` as given plus id and hash), if any."""
        view = self.workspace(team_id).home_views.get(user_id)
        return None if view is None else view.to_api(view_team(view, self), self.app_id, self.bot_id)

    def views_opened(self) -> list[JSON]:
        """Every modal opened, pushed or updated, in order (each with id, user_id, and the view)."""
        return list(self.opened_views)

    def open_modals(self, user_id: str) -> list[JSON]:
        """Modals currently open for this user, bottom of the stack first."""
        stack = self.modal_stacks.get(user_id, [])
        return [self.views[v].to_api(self.team_id, self.app_id, self.bot_id) for v in stack]

    def thread_status(self, channel_id: str, thread_ts: str, team_id: str | None = None) -> list[str]:
        """Every status set by assistant.threads.setStatus in this thread, in order ("" = cleared)."""
        return list(self.workspace(team_id).thread_status.get((channel_id, thread_ts), []))

    def loading_messages(self, channel_id: str, thread_ts: str, team_id: str | None = None) -> list[list[str]]:
        """The `loading_messages` of every setStatus call in this thread, in order ([] when none were given)."""
        return list(self.workspace(team_id).loading_messages.get((channel_id, thread_ts), []))

    def rendered(self, channel_id: str, ts: str, team_id: str | None = None) -> str:
        """The message's text as a Slack client shows it, as HTML (see `render.py`)."""
        msg = self.workspace(team_id).find_message(channel_id, ts)
        if msg is None:
            raise KeyError(f"no message {channel_id}/{ts}")
        return render_message(msg)

    def calls_of(self, method: str) -> list[RecordedCall]:
        """Recorded calls of one Web API method."""
        return [c for c in self.calls if c.method == method]

    def notify(self) -> None:
        """Wake `wait_for` waiters (called after every change)."""
        self._changed.set()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until `predicate()` is truthy (checked after each change); TimeoutError after `timeout`."""
        await wait_until(predicate, self._changed, timeout, 0.05)


def view_team(view: FakeView, fake: FakeSlackBase) -> str:
    """The workspace a view's user belongs to."""
    for ws in fake.workspaces.values():
        if view.user_id in ws.users:
            return ws.team_id
    return fake.team_id
