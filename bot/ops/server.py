"""The operations HTTP server: ``/healthz``, ``/readyz``, ``/metrics`` — and whatever other parts mount on it.

One aiohttp application on ``HTTP_HOST:HTTP_PORT`` (127.0.0.1:8080 by default). Other parts of the bot (the
handoff API, the interview service's webhook receiver) add their routes *before* :meth:`OpsServer.start`::

    server = OpsServer(readiness, metrics, host=settings.http_host, port=settings.http_port)
    server.add_routes([web.post("/webhooks/koji", receive)])
    server.add_subapp("/v1/", handoff_app)       # or a whole sub-application
    await server.start()
    ...
    await server.stop()

aiohttp freezes the router at start: adding a route later raises ``RuntimeError``, which says so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from types import TracebackType

from aiohttp import web

from bot.ops.metrics import CONTENT_TYPE_LATEST, Metrics
from bot.ops.readiness import Readiness

__all__ = ["OpsServer"]

log = logging.getLogger("bot.ops")


class OpsServer:
    """The bot's own small HTTP server (health, readiness, metrics, and mounted routes)."""

    def __init__(
        self, readiness: Readiness, metrics: Metrics | None = None, *, host: str = "127.0.0.1", port: int = 8080
    ) -> None:
        """``port=0`` picks a free port (tests); :attr:`port` tells which once started."""
        self.readiness = readiness
        self.metrics = metrics
        self.host = host
        self.port = port
        self.app = web.Application()
        self.app.router.add_get("/healthz", self._healthz)
        self.app.router.add_get("/readyz", self._readyz)
        if metrics is not None:
            self.app.router.add_get("/metrics", self._metrics)
        self._runner: web.AppRunner | None = None

    # --- mounting ---

    def add_routes(self, routes: Iterable[web.AbstractRouteDef]) -> None:
        """Serve ``routes`` too (e.g. ``[web.post("/webhooks/koji", handler)]``). Only before :meth:`start`."""
        self._check_not_started()
        self.app.add_routes(routes)

    def add_subapp(self, prefix: str, app: web.Application) -> None:
        """Serve ``app`` under ``prefix`` (e.g. ``"/v1/"``). Only before :meth:`start`."""
        self._check_not_started()
        self.app.add_subapp(prefix, app)

    def _check_not_started(self) -> None:
        if self._runner is not None:
            raise RuntimeError("routes must be added to the operations server before it starts")

    # --- running ---

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Listen on ``host:port``."""
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])
        log.info("operations server on http://%s:%s (/healthz, /readyz, /metrics)", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening and close open requests."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> OpsServer:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.stop()

    # --- the routes ---

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _readyz(self, request: web.Request) -> web.Response:
        verdict = await self.readiness.verdict()
        return web.json_response(verdict.as_json(), status=200 if verdict.ready else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        assert self.metrics is not None
        body = self.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
