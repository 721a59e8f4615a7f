"""Signed HTTP requests towards the app, as Slack sends events, interactions and slash commands."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


@dataclass
class Delivery:
    """One request the fake sent to the app and what the app answered.

    `kind` is "event", "interactive", "command" or "url_verification"; `status` is the HTTP status
    (0 when the app did not answer within `ack_timeout`, or could not be reached); `ack_seconds` how long
    the answer took; `json` the parsed answer body when it was JSON; `connection` the Socket Mode connection
    (`SocketConnection.number`) it went to.
    """

    kind: str
    payload: dict[str, Any]
    body: bytes
    content_type: str = "application/json"
    status: int = 0
    response_body: str = ""
    response_headers: dict[str, str] = field(default_factory=dict)
    ack_seconds: float = 0.0
    retry_num: int | None = None
    retry_reason: str | None = None
    timed_out: bool = False
    error: str | None = None
    transport: str = "http"
    connection: int | None = None  # Socket Mode: the number of the connection it was sent over

    @property
    def json(self) -> Any:
        """The app's answer parsed as JSON, or None."""
        try:
            return json.loads(self.response_body) if self.response_body else None
        except json.JSONDecodeError:
            return None


def event_body(payload: dict[str, Any]) -> tuple[bytes, str]:
    """An Events API body (JSON) and its content type."""
    return json.dumps(payload, separators=(",", ":")).encode(), "application/json"


def interactive_body(payload: dict[str, Any]) -> tuple[bytes, str]:
    """An interactivity body: form-encoded `payload=<JSON>`."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode(), (
        "application/x-www-form-urlencoded"
    )


def command_body(fields: dict[str, str]) -> tuple[bytes, str]:
    """A slash command body: form-encoded fields."""
    return urlencode(fields).encode(), "application/x-www-form-urlencoded"


def signed_headers(secret: str, body: bytes, content_type: str, *, timestamp: int | None = None) -> dict[str, str]:
    """Headers with X-Slack-Signature / X-Slack-Request-Timestamp as Slack computes them."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = str(SignatureVerifier(secret).generate_signature(timestamp=ts, body=body))
    return {
        "Content-Type": content_type,
        "User-Agent": SLACK_USER_AGENT,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }


async def post(
    session: aiohttp.ClientSession,
    url: str,
    delivery: Delivery,
    headers: dict[str, str],
    ack_timeout: float,
) -> Delivery:
    """POST the delivery's body; fill in status, answer and ack time. Never raises for HTTP problems."""
    if delivery.retry_num is not None:
        headers = {**headers, "X-Slack-Retry-Num": str(delivery.retry_num)}
        headers["X-Slack-Retry-Reason"] = delivery.retry_reason or "http_timeout"
    started = time.monotonic()
    try:
        async with session.post(
            url, data=delivery.body, headers=headers, timeout=aiohttp.ClientTimeout(total=ack_timeout)
        ) as resp:
            delivery.response_body = await resp.text()
            delivery.status = resp.status
            delivery.response_headers = dict(resp.headers)
    except TimeoutError:
        delivery.timed_out = True
        delivery.error = "timeout"
    except aiohttp.ClientError as exc:
        delivery.error = f"{type(exc).__name__}: {exc}"
    delivery.ack_seconds = time.monotonic() - started
    return delivery
