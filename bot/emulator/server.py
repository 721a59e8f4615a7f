"""The built-in, Koji-compatible interview server (aiohttp), for demos, tests and benchmarks.

``run_emulator(config)`` runs it on loopback for as long as the ``async with`` lasts; ``serve_forever``
runs it from the command line. Interviews are kept in memory, and in a SQLite file when
``EmulatorConfig.database`` names one (so they survive a restart).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import random
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.emulator.analysis import analyze
from bot.emulator.archive import InterviewArchive
from bot.emulator.brief import load_brief
from bot.emulator.config import ALL_PERMISSIONS, EmulatorConfig, Faults
from bot.emulator.interviews import InterviewBook, InterviewRecord
from bot.emulator.ratelimit import SlidingWindow
from bot.emulator.routes import API_KEY, RATE_HEADERS, ApiFailure, Routes, error
from bot.emulator.webhooks import WebhookSender

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Session-Token",
    "Access-Control-Expose-Headers": "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After",
    "Access-Control-Max-Age": "600",
}


@dataclass(frozen=True)
class RequestRecord:
    """One request the server saw (for test assertions)."""

    method: str
    path: str
    status: int


class Emulator:
    """A running built-in server: its URL, the key it accepts, its fault knobs and its interviews."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.faults: Faults = config.faults()
        archive = InterviewArchive(config.database) if config.database is not None else None
        self.book = InterviewBook(load_brief(config.brief), archive)
        self.api_key = config.api_key or f"pk_live_{secrets.token_hex(16)}"
        if archive is not None and config.api_key is None:
            self.api_key = archive.api_key(self.api_key)  # the interviews it keeps stay reachable with it
        #: Permissions by key digest: like Koji, the server keeps only a hash of each key.
        self.keys: dict[str, frozenset[str]] = {}
        for key, permissions in {self.api_key: ALL_PERMISSIONS, **config.extra_keys}.items():
            self.add_api_key(key, permissions)
        self.window = SlidingWindow(config.rate_limit, config.rate_window)
        self.requests: list[RequestRecord] = []
        self.accepted_messages = 0
        self.webhooks: WebhookSender | None = None
        if config.webhook_url:
            secret = config.webhook_secret or secrets.token_hex(16)
            self.webhooks = WebhookSender(
                config.webhook_url,
                secret,
                max_attempts=config.webhook_max_attempts,
                backoff=config.webhook_backoff,
                style=config.webhook_signature,
            )
        self._random = random.Random(config.seed)
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self.port = config.port

    @property
    def base_url(self) -> str:
        """The API base, e.g. ``http://127.0.0.1:PORT/api/v1``."""
        return f"http://{self.config.host}:{self.port}/api/v1"

    # --- read access for tests ------------------------------------------------------------------------------------

    def interview(self, interview_id: str) -> InterviewRecord:
        """One interview's record (``KeyError`` if unknown)."""
        return self.book.interviews[interview_id]

    def transcript(self, interview_id: str) -> list[dict[str, Any]]:
        """One interview's transcript: dicts with ``role`` (interviewer/respondent), ``content``, ``question``."""
        return [dict(e) for e in self.book.interviews[interview_id].transcript]

    def add_api_key(self, key: str, permissions: frozenset[str] | set[str] = ALL_PERMISSIONS) -> None:
        """Accept another key with the given permissions (stored as a digest)."""
        self.keys[key_digest(key)] = frozenset(permissions)

    # --- background work -------------------------------------------------------------------------------------

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            await work

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def webhook(self, event: str, data: dict[str, Any]) -> None:
        """Send a signed webhook, if a URL is configured."""
        if self.webhooks is not None:
            self.webhooks.send(event, data)

    def start_analysis(self, record: InterviewRecord) -> None:
        """Run the analysis after ``analysis_delay`` (status processing → completed | failed)."""
        self.webhook("interview.completed", {"interview_id": record.id, "completion": record.completion})
        self._analyse(record)

    def _analyse(self, record: InterviewRecord) -> None:
        async def work() -> None:
            await asyncio.sleep(self.config.analysis_delay)
            if self.faults.fail_analysis:
                record.analysis_status = "failed"
                self.book.save(record)
                return
            texts = [e["content"] for e in record.transcript if e["role"] == "respondent"]
            record.analysis = analyze(self.book.brief, record.state, texts)
            record.analysis_status = "completed"
            if record.completion is not None:
                record.completion["analysis_status"] = "completed"
            self.book.save(record)
            payload = {
                "interview_id": record.id,
                "analysis": record.analysis,
                "quality_score": record.analysis["quality_score"],
            }
            self.webhook("interview.analysis_ready", payload)
            self.webhook(
                "interview.quality_scored",
                {"interview_id": record.id, "quality_score": record.analysis["quality_score"]},
            )

        self._spawn(work())

    # --- HTTP plumbing ---------------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await self._guarded(request, handler)
        except web.HTTPException as exc:
            self.requests.append(RequestRecord(request.method, request.path, exc.status))
            raise
        self.requests.append(RequestRecord(request.method, request.path, response.status))
        if self.faults.error_style == "described" and response.status >= 400 and isinstance(response, web.Response):
            _describe(response)
        return response

    async def _guarded(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "OPTIONS":
            return web.Response(status=204)
        faults = self.faults
        if faults.latency > 0:
            await asyncio.sleep(faults.latency)
        auth = request.headers.get("Authorization", "")
        key = key_digest(auth[7:].strip()) if auth.lower().startswith("bearer ") else ""
        if key not in self.keys:
            return error(401, "unauthorized", "Missing or invalid API key.")
        request[API_KEY] = key
        if faults.force_429 > 0:
            faults.force_429 -= 1
            return self._too_many(faults.force_429_retry_after, 0)
        verdict = self.window.check(key)
        request[RATE_HEADERS] = verdict.headers()
        if not verdict.allowed:
            return self._too_many(verdict.retry_after, verdict.reset_at, verdict.headers())
        if faults.error_rate > 0 and self._random.random() < faults.error_rate:
            return error(503, "server_error", "The interview service is temporarily unavailable.")
        try:
            return await handler(request)
        except ApiFailure as failure:
            return failure.response

    def _too_many(self, retry_after: float, reset_at: float, headers: dict[str, str] | None = None) -> web.Response:
        response = error(429, "rate_limited", "Rate limit exceeded: too many requests.")
        reset = reset_at or time.time() + retry_after
        response.headers.update(headers or {"X-RateLimit-Limit": str(self.window.limit), "X-RateLimit-Remaining": "0"})
        response.headers["X-RateLimit-Reset"] = str(math.ceil(reset))
        if self.faults.generation == "old":
            response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
        return response

    async def _on_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        response.headers.update(_CORS)
        for name, value in request.get(RATE_HEADERS, {}).items():
            response.headers.setdefault(name, value)

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(middlewares=[self._middleware])
        Routes(self).register(app)
        app.router.add_route("OPTIONS", "/{tail:.*}", self._options)
        app.on_response_prepare.append(self._on_prepare)
        return app

    async def _options(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def start(self) -> None:
        """Bind and serve (on ``config.port``; 0 picks a free port); finish analyses a stop interrupted."""
        for record in self.book.interviews.values():
            if record.analysis_status == "processing":
                self._analyse(record)
        self._runner = web.AppRunner(self.app(), access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        for address in self._runner.addresses:
            if isinstance(address, tuple) and len(address) >= 2:
                self.port = int(address[1])
                break

    async def stop(self) -> None:
        """Stop serving and cancel background work."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.webhooks is not None:
            await self.webhooks.aclose()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.book.archive is not None:
            self.book.archive.close()


def key_digest(key: str) -> str:
    """What the server keeps of an API key: its SHA-256 (so no key sits in memory dumps or reprs)."""
    return hashlib.sha256(key.encode()).hexdigest() if key else ""


def _describe(response: web.Response) -> None:
    """Rewrite a ``{"error": code, "message": text}`` body as ``{"error": text}`` (the overview page's form)."""
    try:
        body = json.loads(response.body) if isinstance(response.body, bytes) else None
    except ValueError:
        return
    if isinstance(body, dict) and "message" in body:
        rest = {k: v for k, v in body.items() if k not in ("error", "message")}
        response.text = json.dumps({**rest, "error": body["message"]})


@asynccontextmanager
async def run_emulator(config: EmulatorConfig | None = None) -> AsyncIterator[Emulator]:
    """Run the built-in server on loopback for the duration of the block."""
    emulator = Emulator(config or EmulatorConfig())
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


async def serve_forever(config: EmulatorConfig) -> None:
    """Run the built-in server until cancelled, printing its URL and the API key it accepts."""
    async with run_emulator(config) as emulator:
        print(f"Built-in interview server: {emulator.base_url}", flush=True)
        print(f"Study: {emulator.book.brief.study.title} ({emulator.book.brief.study.id})", flush=True)
        print(f"API key it accepts: {emulator.api_key}", flush=True)
        if emulator.webhooks is not None:
            shown = "as configured" if config.webhook_secret else emulator.webhooks.secret
            print(f"Webhooks to {emulator.webhooks.url} (signing secret: {shown})", flush=True)
        await asyncio.Event().wait()
