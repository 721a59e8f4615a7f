"""``interview-bridge run``: the bridge, the platforms, the operations HTTP server, and a graceful stop.

On SIGTERM or SIGINT, within ``SHUTDOWN_GRACE`` seconds:

1. readiness turns 503 and no new turn starts (messages that still arrive are stored for the next start);
2. replies streaming now end visibly with the restart note; their turns stay stored in flight;
3. the platform connections close (no more events), then the bridge, the store and the API client;
4. the process exits 0. A second signal, or the grace running out, cuts the remaining steps short.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from bot.app import open_bridge, operations_server
from bot.config import Settings
from bot.core.bridge import Bridge
from bot.core.safe_text import printable
from bot.ops.metrics import Metrics

log = logging.getLogger("bot.service")

Runner = Callable[[Bridge, Settings], Coroutine[Any, Any, None]]


def platform_runners(settings: Settings) -> dict[str, Runner]:
    """The configured platforms, by the name of their link (``discord``, ``discord-rest`` without the gateway,
    ``slack``)."""
    runners: dict[str, Runner] = {}
    if settings.discord_token:
        from adapters.discord.link import LINK, REST_LINK
        from adapters.discord.runner import run_discord

        runners[LINK if settings.discord_gateway else REST_LINK] = run_discord
    if settings.slack_bot_token:
        runners["slack"] = serve_slack
    return runners


async def serve_slack(bridge: Bridge, settings: Settings) -> None:
    """Serve Slack (Socket Mode, or HTTP mode) until cancelled."""
    from adapters.slack.runner import start_slack
    from bot.app import invitation_desk, shared_windows

    desk, tiers = invitation_desk(bridge), shared_windows(bridge)
    runner = await start_slack(settings, bridge, host=settings.slack_http_host, desk=desk, shared_tiers=tiers)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.stop()


async def serve(settings: Settings, *, stopping: asyncio.Event | None = None) -> int:
    """Run until SIGTERM/SIGINT (or ``stopping`` is set): exit 0; a platform's setup problem: exit 2."""
    runners = platform_runners(settings)
    if not runners:
        print(
            "No platform is configured: set DISCORD_TOKEN and/or SLACK_BOT_TOKEN (see the README),\n"
            "or try `make demo` / `interview-bridge chat` for the terminal.",
            file=sys.stderr,
        )
        return 2
    loop = asyncio.get_running_loop()
    stopping = stopping or asyncio.Event()
    problems: list[str] = []
    async with asyncio.timeout(None) as deadline:

        def on_signal(signum: signal.Signals) -> None:
            if stopping.is_set():
                log.warning("second %s: stopping now", signum.name)
                deadline.reschedule(loop.time())
                return
            log.info("%s received: stopping within %g s", signum.name, settings.shutdown_grace)
            stopping.set()

        async def grace() -> None:
            await stopping.wait()
            if deadline.when() is None:
                deadline.reschedule(loop.time() + settings.shutdown_grace)

        timer = asyncio.create_task(grace(), name="shutdown-grace")

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, on_signal, signum)
        try:
            await _serve(settings, runners, stopping, problems)
        except TimeoutError:
            log.warning("the stop took longer than SHUTDOWN_GRACE (%g s): cut short", settings.shutdown_grace)
        finally:
            timer.cancel()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
    for problem in problems:
        print(f"interview-bridge: {problem}", file=sys.stderr)
    if not problems:
        log.info("stopped")
    return 2 if problems else 0


async def _serve(settings: Settings, runners: dict[str, Runner], stopping: asyncio.Event, problems: list[str]) -> None:
    metrics = Metrics()
    async with open_bridge(settings, observer=metrics) as bridge:
        for name in runners:  # required from the start: not ready until each one has connected
            bridge.connections.track(name)
        server = operations_server(settings, bridge, metrics)

        async def accepting() -> str | None:
            return "stopping" if stopping.is_set() else None

        server.readiness.add_check("accepting", accepting)
        try:
            await server.start()
        except OSError as error:
            problems.append(
                f"cannot serve HTTP on {settings.http_host}:{settings.http_port} (HTTP_HOST / HTTP_PORT): "
                f"{error.strerror or error}"
            )
            return
        tasks = [asyncio.create_task(run(bridge, settings), name=f"platform:{n}") for n, run in runners.items()]
        stop = asyncio.create_task(stopping.wait(), name="stop-signal")
        try:
            await asyncio.wait([*tasks, stop], return_when=asyncio.FIRST_COMPLETED)
            stopping.set()
            await bridge.pause()  # cut replies say "restarting" while the platforms can still be written to
        finally:
            for task in [*tasks, stop]:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            await server.stop()
        problems.extend(p for p in (_problem(r, settings) for r in results if isinstance(r, BaseException)) if p)


def _problem(error: BaseException, settings: Settings) -> str:
    """What to print for a platform runner that stopped with ``error`` (empty: it was just cancelled)."""
    if isinstance(error, asyncio.CancelledError):
        return ""
    if isinstance(error, ValueError):  # a setup problem a runner found (bad token, missing intent)
        return printable(str(error))
    if isinstance(error, OSError) and error.errno == errno.EADDRINUSE:  # only Slack's HTTP mode listens
        return (
            f"SLACK_HTTP_PORT={settings.slack_http_port}: the port is in use on {settings.slack_http_host} "
            "(another program or another copy of the bot listens there): choose another port, or stop that program"
        )
    if isinstance(error, OSError):  # the platform cannot be reached (network, a wrong *_API_URL)
        return f"cannot reach the platform: {error}"
    raise error


def main_loop(settings: Settings) -> int:
    """``asyncio.run(serve(settings))``; a Ctrl-C before the handlers are installed still exits quietly."""
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(serve(settings))
    return 130
