"""Running the Slack side: Socket Mode by default, HTTP mode on the bot's own aiohttp server.

* ``SLACK_APP_TOKEN`` (xapp-) set: Socket Mode — no public URL needed.
* else ``SLACK_SIGNING_SECRET`` set: HTTP mode — Slack posts events, clicks and commands to
  ``http://<host>:SLACK_HTTP_PORT/slack/events`` (put it behind your HTTPS reverse proxy).
* ``SLACK_API_URL`` points the Web API client elsewhere (tests, proxies).

Teams with their own Bolt app call :func:`adapters.slack.listeners.register_listeners` instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.adapter import SlackAdapter
from adapters.slack.listeners import register_listeners
from bot.config import Settings
from bot.core.bridge import Bridge

log = logging.getLogger("adapters.slack")

EVENTS_PATH = "/slack/events"

#: Bot scopes the app needs, and what each is for (``deploy/slack-manifest.yaml`` requests exactly these).
SCOPES: dict[str, str] = {
    "assistant:write": "the agent thread: its title and suggested prompts (assistant.threads.setTitle / "
    "setSuggestedPrompts) and the assistant_thread_started event",
    "chat:write": "post, stream (chat.startStream/appendStream/stopStream) and update replies; ephemeral notes; "
    "the “is thinking…” status (assistant.threads.setStatus, which Slack moves from assistant:write to chat:write)",
    "commands": "the /interview slash command",
    "im:history": "receive the messages people send the app in its Messages tab (message.im)",
    "im:write": "open the DM with someone who starts an interview from /interview or the Home tab",
    "users:read": "the respondent's display name, locale and time zone (users.info), passed to the interview",
}


def make_client(token: str, api_url: str | None = None, *, rate_limit_retries: int = 3) -> AsyncWebClient:
    """A Web API client that retries connection errors and 429s (after ``Retry-After``)."""
    handlers = [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
    ]
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
    return AsyncApp(
        client=client,
        signing_secret=secret or ("socket-mode" if socket_mode else None),
        request_verification_enabled=not socket_mode,
        process_before_response=False,
    )


@dataclass
class SlackRunner:
    """The Slack side of a running bot: start it, stop it."""

    app: AsyncApp
    adapter: SlackAdapter
    settings: Settings
    host: str = "0.0.0.0"  # HTTP mode only; tests use 127.0.0.1
    _site_runner: web.AppRunner | None = None
    _socket: object | None = None
    port: int | None = None

    @property
    def socket_mode(self) -> bool:
        """True when an app-level token is set."""
        return self.settings.slack_app_token is not None

    async def start(self) -> None:
        """Connect (Socket Mode) or start serving the events endpoint (HTTP mode)."""
        if self.socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            assert self.settings.slack_app_token is not None
            handler = AsyncSocketModeHandler(self.app, self.settings.slack_app_token.get_secret_value())
            await handler.connect_async()  # type: ignore[no-untyped-call]
            self._socket = handler
            log.info("slack: connected in Socket Mode")
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

    async def stop(self) -> None:
        """Disconnect / stop serving, and release the budget's timers."""
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[attr-defined]
            self._socket = None
        if self._site_runner is not None:
            await self._site_runner.cleanup()
            self._site_runner = None
        await self.adapter.calls.budget.close()


async def start_slack(settings: Settings, bridge: Bridge, *, host: str = "0.0.0.0") -> SlackRunner:
    """Build the Bolt app, register the listeners on ``bridge`` and start it. Call ``stop()`` when done."""
    app = make_app(settings)
    adapter = register_listeners(app, bridge, update_interval=settings.slack_update_interval)
    runner = SlackRunner(app, adapter, settings, host=host)
    await runner.start()
    return runner
