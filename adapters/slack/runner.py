"""Running the Slack side: Socket Mode by default, HTTP mode on the bot's own aiohttp server.

* ``SLACK_APP_TOKEN`` (xapp-) set: Socket Mode — no public URL needed.
* else ``SLACK_SIGNING_SECRET`` set: HTTP mode — Slack posts events, clicks and commands to
  ``http://<host>:SLACK_HTTP_PORT/slack/events`` (put it behind your HTTPS reverse proxy).
* ``SLACK_API_URL`` points the Web API client elsewhere (tests, proxies).

Teams with their own Bolt app call :func:`adapters.slack.listeners.register_listeners` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.adapter import SlackAdapter
from adapters.slack.budget import SharedTiers
from adapters.slack.invitations import SlackInvitations
from adapters.slack.listeners import register_listeners
from bot.config import Settings
from bot.core import Bridge, Connection, InvitationDesk

log = logging.getLogger("adapters.slack")

EVENTS_PATH = "/slack/events"

#: Bot scopes the app needs, and what each is for (``deploy/slack-manifest.yaml`` requests exactly these).
SCOPES: dict[str, str] = {
    "assistant:write": "the agent thread: its title and suggested prompts (assistant.threads.setTitle / "
    "setSuggestedPrompts) and the assistant_thread_started event",
    "channels:read": "the members of a public channel an admin invites (conversations.members, for "
    "/interview invite #channel and interview-bridge invite --channel)",
    "chat:write": "post, stream (chat.startStream/appendStream/stopStream) and update replies; ephemeral notes; "
    "the “is thinking…” status (assistant.threads.setStatus, which Slack moves from assistant:write to chat:write)",
    "commands": "the /interview slash command",
    "im:history": "receive the messages people send the app in its Messages tab (message.im)",
    "files:write": "upload result charts and hand an admin the CSV export (files.getUploadURLExternal + "
    "files.completeUploadExternal)",
    "im:write": "open the DM with someone who starts an interview from /interview or the Home tab",
    "usergroups:read": "who is in the admins', the studies' and the invited user groups (usergroups.users.list)",
    "users:read": "the respondent's display name, locale and time zone (users.info), passed to the interview; "
    "the workspace's members when a campaign names people (users.list)",
    "users:read.email": "find invitees by email address (users.lookupByEmail, for interview-bridge invite --csv and "
    "/interview invite emails:…)",
}


class _CountingRateLimitHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (waits ``Retry-After``, retries), telling ``on_429`` of each 429 first."""

    def __init__(self, on_429: Callable[[], None], **options: Any) -> None:
        super().__init__(**options)
        self._on_429 = on_429

    async def can_retry_async(self, *, state: Any, request: Any, response: Any = None, error: Any = None) -> bool:
        if response is not None and getattr(response, "status_code", None) == 429:
            self._on_429()
        return bool(await super().can_retry_async(state=state, request=request, response=response, error=error))


def make_client(
    token: str,
    api_url: str | None = None,
    *,
    rate_limit_retries: int = 3,
    on_429: Callable[[], None] | None = None,
) -> AsyncWebClient:
    """A Web API client that retries connection errors and 429s (after ``Retry-After``); ``on_429`` counts them."""
    limited = (
        _CountingRateLimitHandler(on_429, max_retry_count=rate_limit_retries)
        if on_429 is not None
        else AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries)
    )
    handlers = [AsyncConnectionErrorRetryHandler(max_retry_count=2), limited]
    if api_url:
        base_url = api_url if api_url.endswith("/") else api_url + "/"
        return AsyncWebClient(token=token, base_url=base_url, retry_handlers=handlers)
    return AsyncWebClient(token=token, retry_handlers=handlers)


def make_app(settings: Settings, client: AsyncWebClient | None = None) -> AsyncApp:
    """The Bolt app for ``settings`` (the bot token must be set)."""
    if settings.slack_bot_token is None:
        raise ValueError("SLACK_BOT_TOKEN is not set")
    token = settings.slack_bot_token.get_secret_value()
    client = client or make_client(token, settings.slack_api_url)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    socket_mode = settings.slack_app_token is not None
    app = AsyncApp(
        token=client.token,  # not client=: Bolt would also read SLACK_BOT_TOKEN and warn that it goes unused
        signing_secret=secret or ("socket-mode" if socket_mode else None),
        request_verification_enabled=not socket_mode,
        process_before_response=False,
    )
    app.client.base_url = client.base_url  # the retry handlers and API base of ``client``
    app.client.retry_handlers = client.retry_handlers
    return app


#: The link's name in :class:`~bot.core.observe.Connections` (readiness, metrics).
LINK = "slack"
#: How often the Socket Mode connection is looked at (slack_sdk tells no one when it drops).
WATCH_EVERY = 0.5


@dataclass
class SlackRunner:
    """The Slack side of a running bot: start it, stop it. ``link`` (if given) is kept up to date."""

    app: AsyncApp
    adapter: SlackAdapter
    settings: Settings
    host: str = "0.0.0.0"  # HTTP mode only; tests use 127.0.0.1
    link: Connection | None = None
    ping_interval: float = 10.0  # Socket Mode: slack_sdk's ping and reconnect interval
    _site_runner: web.AppRunner | None = None
    _socket: object | None = None
    _watcher: asyncio.Task[None] | None = None
    port: int | None = None
    invitations: SlackInvitations | None = None  # campaigns' sender: sweeps while the bot runs

    @property
    def socket_mode(self) -> bool:
        """True when an app-level token is set."""
        return self.settings.slack_app_token is not None

    async def start(self) -> None:
        """Connect (Socket Mode) or start serving the events endpoint (HTTP mode)."""
        if self.socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            assert self.settings.slack_app_token is not None
            token = self.settings.slack_app_token.get_secret_value()
            handler = AsyncSocketModeHandler(self.app, token, ping_interval=self.ping_interval)
            await handler.connect_async()  # type: ignore[no-untyped-call]
            self._socket = handler
            log.info("slack: connected in Socket Mode")
            if self.link is not None:
                self.link.up("Socket Mode connected")
                self._watcher = asyncio.create_task(self._watch(handler), name="slack-socket-watch")
            return
        if self.settings.slack_signing_secret is None:
            raise ValueError("Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)")
        runner = web.AppRunner(self.app.web_app(path=EVENTS_PATH))
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.settings.slack_http_port)
        await site.start()
        self._site_runner = runner
        sockets = getattr(site._server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else self.settings.slack_http_port
        log.info("slack: HTTP mode on port %s%s", self.port, EVENTS_PATH)
        if self.link is not None:
            self.link.up(f"HTTP mode serving on port {self.port}")

    async def _watch(self, handler: object) -> None:
        """Keep the link in step with the Socket Mode client (it reconnects by itself)."""
        assert self.link is not None
        client = handler.client  # type: ignore[attr-defined]
        while True:
            connected = await client.is_connected()
            if connected and not self.link.connected:
                log.info("slack: Socket Mode connected again")
                self.link.up("Socket Mode connected")
            elif not connected and self.link.connected:
                log.warning("slack: Socket Mode connection lost; slack_sdk reconnects")
                self.link.down("Socket Mode disconnected (reconnecting)")
            await asyncio.sleep(WATCH_EVERY)

    async def stop(self) -> None:
        """Disconnect / stop serving, and release the budget's timers."""
        if self.invitations is not None:
            await self.invitations.stop()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        if self.link is not None:
            self.link.down("stopped")
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[attr-defined]
            self._socket = None
        if self._site_runner is not None:
            await self._site_runner.cleanup()
            self._site_runner = None
        await self.adapter.calls.budget.close()


class SlackSetupError(ValueError):
    """Slack refused a token: waiting will not fix it (the message says what to change)."""


#: Web API errors that mean a token is wrong, revoked or its app uninstalled.
REFUSED = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"})
FIX_BOT_TOKEN = (
    "Slack refused SLACK_BOT_TOKEN ({error}). Copy the Bot User OAuth Token (xoxb-…) again from "
    "api.slack.com/apps → your app → OAuth & Permissions; if the app was removed or the token revoked, "
    "reinstall the app to the workspace first."
)
FIX_APP_TOKEN = (
    "Slack refused SLACK_APP_TOKEN ({error}). Make an app-level token (xapp-…) with the connections:write "
    "scope under api.slack.com/apps → your app → Basic Information → App-Level Tokens."
)


def warn_of_missing_scopes(headers: Any) -> None:
    """Log which of :data:`SCOPES` the bot token lacks (Slack lists the token's scopes in ``X-OAuth-Scopes``): an
    app created from an older manifest keeps running, and the log says what to add for the rest."""
    listed = next((str(value) for name, value in dict(headers or {}).items() if name.lower() == "x-oauth-scopes"), None)
    if listed is None:
        return
    missing = sorted(set(SCOPES) - {scope.strip() for scope in listed.split(",")})
    if missing:
        needs = "; ".join(f"{scope}: {SCOPES[scope]}" for scope in missing)
        log.warning(
            "slack: the bot token lacks %s (%s). Add them under api.slack.com/apps → your app → OAuth & Permissions "
            "(deploy/slack-manifest.yaml lists them all) and reinstall the app.",
            ", ".join(missing),
            needs,
        )


async def check_tokens(settings: Settings, client: AsyncWebClient, *, backoff: float = 1.0) -> None:
    """Ask Slack whether the tokens are accepted before serving (auth.test; apps.connections.open for xapp-).

    A refusal raises :class:`SlackSetupError`; a network outage is retried quietly with backoff, one log line
    per attempt, until Slack answers.
    """
    checks = [(client, "auth.test", FIX_BOT_TOKEN)]
    if settings.slack_app_token is not None:
        app_client = AsyncWebClient(token=settings.slack_app_token.get_secret_value(), base_url=client.base_url)
        checks.append((app_client, "apps.connections.open", FIX_APP_TOKEN))
    for web_client, method, fix in checks:
        delay = backoff
        while True:
            try:
                answer = await web_client.api_call(method)
                if method == "auth.test":
                    warn_of_missing_scopes(answer.headers)
                break
            except SlackApiError as error:
                code = str(error.response.get("error", "")) if error.response is not None else ""
                if code in REFUSED or code == "not_allowed_token_type":
                    raise SlackSetupError(fix.format(error=code)) from None
                raise
            except (aiohttp.ClientError, OSError, TimeoutError) as error:
                log.warning("slack: cannot reach Slack (%s); trying again in %.0f s", type(error).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)


async def start_slack(
    settings: Settings,
    bridge: Bridge,
    *,
    host: str = "0.0.0.0",
    ping_interval: float = 10.0,
    desk: InvitationDesk | None = None,
    shared_tiers: SharedTiers | None = None,
) -> SlackRunner:
    """Build the Bolt app, register the listeners on ``bridge`` and start it. Call ``stop()`` when done.

    The tokens are checked first (:func:`check_tokens`), so a refused one stops the start with what to fix.
    The bridge's ``slack`` link (readiness) follows the Socket Mode connection, or the HTTP endpoint.
    ``shared_tiers`` (several instances on one database) shares the workspace's rate tiers among them.
    """
    assert settings.slack_bot_token is not None, "SLACK_BOT_TOKEN is not set"
    observer = bridge.observer
    client = make_client(
        settings.slack_bot_token.get_secret_value(),
        settings.slack_api_url,
        on_429=lambda: observer.rate_limited(api="slack", platform="slack"),
    )
    app = make_app(settings, client)
    await check_tokens(settings, app.client)
    invitations = SlackInvitations(desk) if desk is not None else None
    adapter = register_listeners(app, bridge, update_interval=settings.slack_update_interval, invitations=invitations)
    adapter.calls.budget.shared = shared_tiers
    link = bridge.connections.track(LINK)
    runner = SlackRunner(
        app, adapter, settings, host=host, link=link, ping_interval=ping_interval, invitations=invitations
    )
    await runner.start()
    if invitations is not None:
        invitations.start()
    return runner
