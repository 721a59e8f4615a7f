"""The operations server: /healthz, /readyz that follows the platform connections, routes mounted by others.

Discord runs through ``serve`` (what ``interview-bridge run`` does, in-process); Slack Socket Mode through the
same pieces with a short ping interval, so its reconnect after the outage takes a second, not ten.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web
from fake_discord import FakeDiscord
from fake_discord import serving as discord_serving
from fake_slack import FakeSlack
from ops_helpers import get, until_status

from adapters.slack.runner import start_slack
from bot.app import open_bridge, operations_server
from bot.config import Settings
from bot.ops.metrics import Metrics
from bot.ops.readiness import Readiness
from bot.ops.server import OpsServer
from bot.service import serve
from tests.serving import free_port

ADA = "1001"


def discord_settings(fake: FakeDiscord, tmp_path: Path, port: int) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=fake.token,  # type: ignore[arg-type]
        discord_api_url=fake.rest_base,
        discord_gateway_url=fake.gateway_url,
        database_path=str(tmp_path / "bot.db"),
        http_port=port,
        emulator_token_rate=2000.0,
    )


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[str]:
    """``serve(settings)`` in a task; yields the HTTP base URL once it answers; stops it (exit 0) afterwards."""
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stopping=stop))
    base = f"http://127.0.0.1:{settings.http_port}"
    try:
        await until_status(f"{base}/healthz", 200)
        yield base
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 30) == 0


async def test_readyz_follows_the_discord_gateway(tmp_path: Path) -> None:
    async with discord_serving() as fake:
        fake.add_user(ADA, "ada")
        async with running(discord_settings(fake, tmp_path, free_port())) as base:
            assert (await get(f"{base}/healthz")) == (200, {"status": "ok"})
            _, body = await until_status(f"{base}/readyz", 200)
            assert body["ready"] is True and body["checks"] == {"accepting": "ok", "discord": "ok", "store": "ok"}

            async with fake.gateway_outage():  # the socket drops; reconnections are held until the block ends
                _, body = await until_status(f"{base}/readyz", 503, timeout=5.0)
                assert body["ready"] is False and body["not_ready"] == ["discord"]
                assert "disconnected" in body["checks"]["discord"]
                assert (await get(f"{base}/healthz"))[0] == 200  # alive, just not ready
            await until_status(f"{base}/readyz", 200, timeout=30.0)
            assert fake.gateway.stats.connections >= 2


async def test_readyz_is_503_until_discord_is_ready_and_names_it(tmp_path: Path) -> None:
    async with discord_serving() as fake:
        fake.add_user(ADA, "ada")
        # the bot starts while the gateway is down
        async with fake.gateway_outage(), running(discord_settings(fake, tmp_path, free_port())) as base:
            status, body = await get(f"{base}/readyz")
            assert status == 503 and body["not_ready"] == ["discord"]
            assert body["checks"]["store"] == "ok"


async def test_readyz_follows_slack_socket_mode(tmp_path: Path) -> None:
    async with FakeSlack(signing_secret="fake-signing-secret") as fake:
        fake.add_user("U0ALICE01", "alice")
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            slack_bot_token=fake.bot_token,  # type: ignore[arg-type]
            slack_app_token=fake.app_token,  # type: ignore[arg-type]
            slack_api_url=fake.api_url,
            database_path=str(tmp_path / "bot.db"),
            http_port=0,
        )
        async with open_bridge(settings, observer=Metrics()) as bridge:
            bridge.connections.track("slack")
            async with operations_server(settings, bridge) as server:
                ready = f"{server.url}/readyz"
                status, body = await get(ready)
                assert status == 503 and body["not_ready"] == ["slack"]  # required before it connects
                runner = await start_slack(settings, bridge, host="127.0.0.1", ping_interval=1.0)
                try:
                    await until_status(ready, 200)
                    async with fake.socket.outage():
                        _, body = await until_status(ready, 503, timeout=5.0)
                        assert body["not_ready"] == ["slack"] and "disconnected" in body["checks"]["slack"]
                        await fake.wait_for(lambda: fake.socket.refused >= 1, timeout=10)  # it tried, refused
                        assert (await get(ready))[0] == 503
                    await until_status(ready, 200, timeout=30.0)
                    assert fake.socket.connected
                finally:
                    await runner.stop()
                status, body = await get(ready)
                assert status == 503 and body["checks"]["slack"] == "stopped"


async def test_slack_http_mode_is_ready_while_serving(tmp_path: Path) -> None:
    async with FakeSlack(signing_secret="fake-signing-secret") as fake:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            slack_bot_token=fake.bot_token,  # type: ignore[arg-type]
            slack_signing_secret=fake.signing_secret,  # type: ignore[arg-type]
            slack_api_url=fake.api_url,
            slack_http_port=free_port(),
            database_path=str(tmp_path / "bot.db"),
            http_port=0,
        )
        async with open_bridge(settings) as bridge, operations_server(settings, bridge) as server:
            runner = await start_slack(settings, bridge, host="127.0.0.1")
            try:
                _, body = await until_status(f"{server.url}/readyz", 200)
                assert body["checks"]["slack"] == "ok"
            finally:
                await runner.stop()


async def test_a_store_that_does_not_answer_is_not_ready(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database_path=str(tmp_path / "bot.db"), http_port=0)  # type: ignore[call-arg]
    async with open_bridge(settings) as bridge, operations_server(settings, bridge) as server:
        assert (await get(f"{server.url}/readyz"))[0] == 200  # no platform configured: the store alone
        await bridge.store.close()
        status, body = await get(f"{server.url}/readyz")
        assert status == 503 and body["not_ready"] == ["store"] and body["checks"]["store"].startswith("failed")
        await bridge.store.open()


async def test_other_parts_mount_routes_before_the_start_only() -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"hello": request.match_info["name"]})

    server = OpsServer(Readiness(), host="127.0.0.1", port=0)
    server.add_routes([web.get("/v1/hello/{name}", hello)])

    async def received(request: web.Request) -> web.Response:
        return web.Response(text="received")

    sub = web.Application()
    sub.router.add_post("/koji", received)
    server.add_subapp("/webhooks/", sub)
    async with server:
        assert (await get(f"{server.url}/v1/hello/ada")) == (200, {"hello": "ada"})
        assert (await get(f"{server.url}/metrics"))[0] == 404  # no metrics given
        assert server.host == "127.0.0.1" and server.port > 0
        with pytest.raises(RuntimeError, match="before it starts"):
            server.add_routes([web.get("/late", hello)])


async def test_a_port_in_use_is_a_clear_answer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with discord_serving() as fake:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            status = await asyncio.wait_for(serve(discord_settings(fake, tmp_path, port)), 60)
    assert status == 2
    err = capsys.readouterr().err
    assert f"cannot serve HTTP on 127.0.0.1:{port} (HTTP_HOST / HTTP_PORT)" in err and "Traceback" not in err
    assert fake.gateway.stats.connections == 0  # nothing connected to the platform
