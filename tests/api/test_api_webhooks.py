"""Signed webhooks from the built-in server to a receiver on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from bot.api.client import InterviewClient
from bot.api.webhooks import SIGNATURE_HEADER, sign_webhook, verify_webhook_signature
from bot.core.request_budget import RequestBudget
from bot.emulator import EmulatorConfig, run_emulator
from tests.serving import serving

SECRET = "whsec_test_secret"


@dataclass
class Receiver:
    url: str
    received: list[tuple[bytes, str]] = field(default_factory=list)
    fail_first: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    box = Receiver(url="")

    async def hook(request: web.Request) -> web.Response:
        if box.fail_first > 0:
            box.fail_first -= 1
            return web.Response(status=500)
        box.received.append((await request.read(), request.headers.get(SIGNATURE_HEADER, "")))
        box.arrived.set()
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    async with serving(app) as base:
        box.url = f"{base}/hook"
        yield box


async def _events(box: Receiver, count: int) -> list[str]:
    import json

    for _ in range(200):
        if len(box.received) >= count:
            break
        await asyncio.sleep(0.02)
    return [json.loads(body)["event"] for body, _ in box.received]


async def test_webhooks_are_signed_and_verify(receiver: Receiver) -> None:
    config = EmulatorConfig(
        token_rate=0, webhook_url=receiver.url, webhook_secret=SECRET, analysis_delay=0.01, webhook_backoff=0.01
    )
    async with (
        run_emulator(config) as emu,
        InterviewClient(emu.base_url, emu.api_key, budget=RequestBudget(100, 60.0)) as client,
    ):
        started = await client.start()
        await client.complete(started.interview_id, started.session_token)
        events = await _events(receiver, 4)
    assert events[:2] == ["interview.started", "interview.completed"]
    assert set(events[2:]) == {"interview.analysis_ready", "interview.quality_scored"}
    for body, signature in receiver.received:
        assert signature.startswith("sha256=")
        assert verify_webhook_signature(SECRET, body, signature)
    body, signature = receiver.received[0]
    assert not verify_webhook_signature(SECRET, body.replace(b"interview", b"interveiw"), signature)  # tampered
    assert not verify_webhook_signature("another-secret", body, signature)
    assert not verify_webhook_signature(SECRET, body, None)


async def test_webhook_is_retried_with_backoff(receiver: Receiver) -> None:
    receiver.fail_first = 2
    config = EmulatorConfig(
        webhook_url=receiver.url, webhook_secret=SECRET, webhook_backoff=0.01, webhook_signature="hex"
    )
    async with (
        run_emulator(config) as emu,
        InterviewClient(emu.base_url, emu.api_key, budget=RequestBudget(100, 60.0)) as client,
    ):
        await client.start()
        assert emu.webhooks is not None
        delivery = emu.webhooks.deliveries[0]
        await asyncio.wait_for(delivery.done.wait(), 5)
    assert delivery.delivered and delivery.attempts == 3
    body, signature = receiver.received[0]
    assert signature == sign_webhook(SECRET, body, style="hex")
    assert verify_webhook_signature(SECRET, body, signature)
