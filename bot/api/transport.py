"""HTTP under the interview client: one ``httpx.AsyncClient`` per API base, the request gate, retries.

Every request takes a slot from the key's :class:`~bot.api.gate.RequestGate` first, settles it when the
response arrives, and feeds the ``X-RateLimit-*`` headers back. A 429 pauses the whole gate for
``Retry-After`` / ``X-RateLimit-Reset`` and the request is sent again (the server refused it, so that is safe).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from enum import Enum
from typing import Any

import httpx

from bot.api.errors import (
    ApiUnavailable,
    InterviewApiError,
    RateLimited,
    ServerError,
    error_from_response,
)
from bot.api.gate import OpenGate, QueueCallback, RequestGate
from bot.api.keys import clean_api_key, looks_like_koji_key

log = logging.getLogger(__name__)

#: Transport errors that prove the request never reached the server.
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=30.0)


class Retry(Enum):
    """What may be repeated after a failure."""

    NEVER_SENT = "never_sent"  # only when the request provably never reached the server
    NO_RESPONSE = "no_response"  # also when no response came, and on 502/503/504 (start)
    IDEMPOTENT = "idempotent"  # also on any 5xx (get, complete)


def api_root(base_url: str) -> str:
    """``…/api/v1`` or ``…/api/v1/interviews`` → ``…/api/v1`` (no trailing slash)."""
    root = base_url.strip().rstrip("/")
    return root.removesuffix("/interviews")


def fingerprint(api_key: str) -> str:
    """A short digest naming an API key without revealing it."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


class Transport:
    """Sends requests for one API base and key: gate, headers, timeouts, retries with backoff and jitter."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        budget: RequestGate[Any] | None,
        max_retries: int,
        timeout: httpx.Timeout | None = None,
        stream_read_timeout: float = 120.0,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
    ) -> None:
        api_key = clean_api_key(api_key)
        self.root = api_root(base_url)
        self._api_key = api_key  # only for the Authorization header and for redacting error messages
        self._key_id = fingerprint(api_key)
        if not looks_like_koji_key(api_key):
            log.info(
                "the interview API key %s is not in a documented Koji format (pk_live_…, koji_sk_…, "
                "koji_live_…); using it anyway",
                self._key_id,
            )
        self.budget: RequestGate[Any] = budget if budget is not None else OpenGate()
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        base_timeout = timeout or DEFAULT_TIMEOUT
        self.stream_timeout = httpx.Timeout(
            connect=base_timeout.connect, read=stream_read_timeout, write=base_timeout.write, pool=base_timeout.pool
        )
        self.http = httpx.AsyncClient(
            base_url=self.root + "/",
            timeout=base_timeout,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "interview-bridge/0.1"},
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )

    def headers(self, session_token: str | None = None, *, stream: bool = False) -> dict[str, str]:
        """Fresh per-request headers (never reuse: httpx-sse style helpers write into them)."""
        headers = {"Accept": "text/event-stream, application/json" if stream else "application/json"}
        if session_token:
            headers["X-Session-Token"] = session_token
        return headers

    def error(self, response: httpx.Response, body: bytes, session_token: str | None = None) -> InterviewApiError:
        """The typed error of an error response, with the key and session token blanked out of its message."""
        secrets = (self._api_key, session_token) if session_token else (self._api_key,)
        return error_from_response(response.status_code, body, response.headers, secrets=secrets)

    def __repr__(self) -> str:
        return f"<Transport {self.root} key={self._key_id}>"

    async def backoff(self, attempt: int) -> None:
        """Sleep ``base·2^attempt`` (capped) with jitter: half fixed, half random."""
        delay = min(self.backoff_cap, self.backoff_base * (2**attempt))
        await asyncio.sleep(delay / 2 + random.uniform(0, delay / 2))

    def on_rate_limited(self, error: RateLimited) -> None:
        """A 429 pauses every caller of this key until the server's reset."""
        log.warning("interview API rate limited; pausing %.1f s", error.retry_after)
        self.budget.penalize(error.retry_after)

    async def open(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        session_token: str | None = None,
        caller: str | None = None,
        on_queued: QueueCallback | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Take a budget slot and send one request (no retries). Raise ``ApiUnavailable`` if never sent."""
        slot = await self.budget.acquire_slot(caller, on_queued)
        request = self.http.build_request(
            method,
            path,
            json=json,
            headers=self.headers(session_token, stream=stream),
            timeout=self.stream_timeout if stream else httpx.USE_CLIENT_DEFAULT,
        )
        try:
            response = await self.http.send(request, stream=stream)
        except NEVER_SENT as exc:
            self.budget.release(slot)
            raise ApiUnavailable(f"cannot reach the interview API ({type(exc).__name__})") from None
        except BaseException:
            self.budget.settle(slot)
            raise
        self.budget.settle(slot)
        self.budget.observe(response.headers)
        return response

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        session_token: str | None = None,
        caller: str | None = None,
        on_queued: QueueCallback | None = None,
        retry: Retry = Retry.IDEMPOTENT,
    ) -> Any:
        """Send a request and return its JSON body, retrying what ``retry`` allows; raise a typed error."""
        attempt = 0
        limited = 0
        while True:
            try:
                response = await self.open(
                    method, path, json=json, session_token=session_token, caller=caller, on_queued=on_queued
                )
            except ApiUnavailable:
                if attempt >= self.max_retries:
                    raise
                await self.backoff(attempt)
                attempt += 1
                continue
            except httpx.TransportError as exc:
                if retry is Retry.NEVER_SENT or attempt >= self.max_retries:
                    raise ServerError(f"the interview API did not answer ({type(exc).__name__})") from None
                await self.backoff(attempt)
                attempt += 1
                continue
            if response.status_code < 400:
                try:
                    return response.json()
                except ValueError:
                    raise ServerError(
                        "the interview API sent a reply that is not JSON", status=response.status_code
                    ) from None
            error = self.error(response, response.content, session_token)
            if isinstance(error, RateLimited):
                self.on_rate_limited(error)
                limited += 1
                if limited <= self.max_retries + 3:
                    continue
                raise error
            retryable = isinstance(error, ServerError) and (
                retry is Retry.IDEMPOTENT or (retry is Retry.NO_RESPONSE and response.status_code in (502, 503, 504))
            )
            if retryable and attempt < self.max_retries:
                await self.backoff(attempt)
                attempt += 1
                continue
            raise error

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()
