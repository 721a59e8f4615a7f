"""Delivering handoff callbacks from the store's outbox: signed, in order, retried with backoff.

Each sweep first lets the core queue what the store says happened (:meth:`Handoffs.reconcile`), then claims
due callbacks (a lease in the store, so two instances never send one at once) and POSTs each with
``X-Interview-Bridge-Signature: sha256=<hex>``, the HMAC-SHA256 of the raw body keyed with ``HANDOFF_SECRET``.
A 2xx answer delivers it; anything else is tried again after 1, 2, 4 … seconds (at most 10 minutes apart),
for about a day. Nothing lives in memory: a bot killed mid-way sends what is left after its restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator

import httpx

from bot.core import Bridge
from bot.core.store import HandoffCallback

__all__ = ["SIGNATURE_HEADER", "Outbox", "sign"]

log = logging.getLogger("bot.handoff")

SIGNATURE_HEADER = "X-Interview-Bridge-Signature"
MAX_BACKOFF = 600.0
MAX_ATTEMPTS = 150  # at MAX_BACKOFF apart: about a day
LEASE = 60.0


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=<hex of HMAC-SHA256(secret, body)>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Outbox:
    """Sweeps the callbacks of handoffs every ``interval`` seconds (and at once when an interview ends)."""

    def __init__(self, bridge: Bridge, secret: str | None, *, interval: float = 2.0, timeout: float = 10.0) -> None:
        self._bridge = bridge
        self._secret = secret
        self.interval = interval
        self._timeout = timeout
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """Start sweeping."""
        self._http = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        self._bridge.on_ended(self._ended)
        self._task = asyncio.create_task(self._run(), name="handoff-callbacks")

    async def stop(self) -> None:
        """Stop sweeping (what is left stays in the store)."""
        self._bridge.remove_hook(self._ended)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def lifetime(self, app: object) -> AsyncIterator[None]:
        """An aiohttp ``cleanup_ctx``: sweeping while the HTTP server runs."""
        await self.start()
        yield
        await self.stop()

    async def _ended(self, *args: object) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # a storage hiccup: the next sweep tries again
                log.exception("handoff callbacks: sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()

    async def sweep(self) -> int:
        """Queue what happened, then send what is due; returns how many were delivered."""
        handoffs = self._bridge.handoffs
        await handoffs.reconcile()
        store = self._bridge.store
        delivered = 0
        for callback in await store.claim_callbacks(self._bridge.handoffs.now(), LEASE):
            if await self._send(callback):
                delivered += 1
        return delivered

    async def _send(self, callback: HandoffCallback) -> bool:
        store = self._bridge.store
        body = callback.body.encode()
        headers = {"Content-Type": "application/json"}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(self._secret, body)
        assert self._http is not None
        try:
            response = await self._http.post(callback.url, content=body, headers=headers)
            ok = 200 <= response.status_code < 300
            why = f"HTTP {response.status_code}"
        except httpx.HTTPError as error:
            ok, why = False, type(error).__name__
        now = self._bridge.handoffs.now()
        observer = self._bridge.observer
        if ok:
            await store.callback_done(callback.handoff_id, callback.event, now, delivered=True)
            observer.handoff_callback(event=callback.event, outcome="delivered")
            log.info("handoff callback delivered handoff=%s event=%s", callback.handoff_id, callback.event)
            return True
        attempts = callback.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            await store.callback_done(callback.handoff_id, callback.event, now, delivered=False)
            observer.handoff_callback(event=callback.event, outcome="failed")
            log.warning("handoff callback given up handoff=%s event=%s: %s", callback.handoff_id, callback.event, why)
            return False
        wait = min(MAX_BACKOFF, 2.0 ** (attempts - 1))
        await store.callback_retry(callback.handoff_id, callback.event, attempts, now + wait)
        observer.handoff_callback(event=callback.event, outcome="retried")
        log.info(
            "handoff callback failed handoff=%s event=%s (%s): again in %gs",
            callback.handoff_id,
            callback.event,
            why,
            wait,
        )
        return False


def _names(callback: HandoffCallback) -> tuple[str, str]:
    return callback.handoff_id, callback.event
