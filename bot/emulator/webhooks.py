"""Signed webhook deliveries from the built-in server, retried with exponential backoff."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import aiohttp

from bot.api.webhooks import SIGNATURE_HEADER, sign_webhook

log = logging.getLogger(__name__)


@dataclass
class Delivery:
    """One webhook event and how its delivery went."""

    event: str
    body: bytes
    attempts: int = 0
    status: int | None = None
    delivered: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)


class WebhookSender:
    """POSTs events to one URL, signed with HMAC-SHA256 of the raw body."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        max_attempts: int = 5,
        backoff: float = 1.0,
        style: Literal["sha256", "hex"] = "sha256",
    ) -> None:
        self.url = url
        self.secret = secret
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.style = style
        self.deliveries: list[Delivery] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    def send(self, event: str, data: dict[str, Any]) -> Delivery:
        """Queue ``event`` for delivery (in the background)."""
        payload = {
            "id": f"evt_{secrets.token_hex(8)}",
            "event": event,
            "created_at": datetime.now(UTC).isoformat(),
            "data": data,
        }
        delivery = Delivery(event, json.dumps(payload, separators=(",", ":")).encode())
        self.deliveries.append(delivery)
        task = asyncio.create_task(self._deliver(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return delivery

    async def _deliver(self, delivery: Delivery) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        headers = {
            "Content-Type": "application/json",
            "X-Koji-Event": delivery.event,
            SIGNATURE_HEADER: sign_webhook(self.secret, delivery.body, style=self.style),
        }
        try:
            while delivery.attempts < self.max_attempts:
                delivery.attempts += 1
                try:
                    async with self._session.post(self.url, data=delivery.body, headers=headers) as response:
                        delivery.status = response.status
                        if 200 <= response.status < 300:
                            delivery.delivered = True
                            return
                except (aiohttp.ClientError, TimeoutError) as exc:
                    log.info("webhook %s attempt %d failed: %s", delivery.event, delivery.attempts, type(exc).__name__)
                if delivery.attempts < self.max_attempts:
                    await asyncio.sleep(self.backoff * 2 ** (delivery.attempts - 1))
            log.warning("webhook %s not delivered after %d attempts", delivery.event, delivery.attempts)
        finally:
            delivery.done.set()

    async def aclose(self) -> None:
        """Stop pending deliveries and close the HTTP session."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
