"""The fake Slack's Socket Mode with several connections, as Slack runs it for an app with several processes.

Slack allows one app at most 10 concurrent Socket Mode connections (an 11th is told ``disconnect`` with reason
``too_many_websockets``), sends each envelope to one of them (which one is not promised: the fake spreads them
round-robin), and retries an event that was not acknowledged in time, here on another connection. Driven by raw
WebSocket clients (to see exactly what each connection receives) and by real Bolt apps.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from fake_slack import FakeSlack
from fake_slack.socket_mode import MAX_CONNECTIONS
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

ALICE = "U0ALICE01"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def open_socket(fake: FakeSlack, session: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
    """A raw client: the URL from apps.connections.open (app-level token), then the WebSocket."""
    opened = await AsyncWebClient(base_url=fake.api_url).apps_connections_open(app_token=fake.app_token)
    return await session.ws_connect(str(opened["url"]))


async def next_json(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), 5)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    found: dict[str, Any] = json.loads(message.data)
    return found


class Listener:
    """A raw client that keeps reading envelopes; it acknowledges them unless told not to."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, *, acks: bool = True) -> None:
        self.ws = ws
        self.acks = acks
        self.envelopes: list[dict[str, Any]] = []
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            envelope = json.loads(message.data)
            if "envelope_id" not in envelope:
                continue
            self.envelopes.append(envelope)
            if self.acks:
                await self.ws.send_str(json.dumps({"envelope_id": envelope["envelope_id"]}))

    async def close(self) -> None:
        await self.ws.close()
        await self.task


async def test_ten_connections_at_once_and_an_eleventh_is_refused(
    fake_slack: FakeSlack, session: aiohttp.ClientSession
) -> None:
    fake_slack.set_tier_limit("apps.connections.open", 100)  # twelve connections opened within a second
    sockets = []
    for number in range(1, MAX_CONNECTIONS + 1):
        ws = await open_socket(fake_slack, session)
        hello = await next_json(ws)
        assert hello["type"] == "hello" and hello["num_connections"] == number
        sockets.append(ws)
    assert len(fake_slack.socket.connections) == MAX_CONNECTIONS == 10

    eleventh = await open_socket(fake_slack, session)
    refusal = await next_json(eleventh)
    assert refusal["type"] == "disconnect" and refusal["reason"] == "too_many_websockets"
    closing = await asyncio.wait_for(eleventh.receive(), 5)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert fake_slack.socket.refused == 1 and len(fake_slack.socket.connections) == 10

    await sockets[0].close()  # one process goes away: there is room for another again
    await fake_slack.wait_for(lambda: len(fake_slack.socket.connections) == 9)
    another = await open_socket(fake_slack, session)
    assert (await next_json(another))["num_connections"] == 10
    for ws in [*sockets[1:], another]:
        await ws.close()


async def test_each_event_goes_to_one_connection_spread_over_all(
    fake_slack: FakeSlack, session: aiohttp.ClientSession
) -> None:
    listeners = []
    for _ in range(3):
        ws = await open_socket(fake_slack, session)
        await next_json(ws)  # hello
        listeners.append(Listener(ws))
    sent = [await fake_slack.user_sends_dm(ALICE, f"message {n}") for n in range(6)]
    assert all(s["status"] == 200 for s in sent)
    assert [len(listener.envelopes) for listener in listeners] == [2, 2, 2]  # once each, none twice
    received = [e["payload"]["event_id"] for listener in listeners for e in listener.envelopes]
    assert sorted(received) == sorted(s["event_id"] for s in sent)
    assert Counter(s["delivery"].connection for s in sent) == {1: 2, 2: 2, 3: 2}
    assert [len(c.acked) for c in fake_slack.socket.history] == [2, 2, 2]
    for listener in listeners:
        await listener.close()


async def test_an_event_not_acknowledged_in_time_is_retried_on_another_connection(
    fake_slack: FakeSlack, session: aiohttp.ClientSession
) -> None:
    fake_slack.ack_timeout = 0.3
    fake_slack.auto_retries = 3
    fake_slack.retry_delays = [0.0]
    silent_ws = await open_socket(fake_slack, session)
    await next_json(silent_ws)
    silent = Listener(silent_ws, acks=False)  # connected, but never acknowledges (a stuck process)
    answering_ws = await open_socket(fake_slack, session)
    await next_json(answering_ws)
    answering = Listener(answering_ws)

    sent = await fake_slack.user_sends_dm(ALICE, "are you there?")
    assert sent["delivery"].connection == 1 and sent["delivery"].timed_out  # the first try: the silent one
    await fake_slack.wait_for(lambda: answering.envelopes)
    [first] = silent.envelopes
    [retry] = answering.envelopes
    assert retry["payload"]["event_id"] == first["payload"]["event_id"] == sent["event_id"]
    assert (first["retry_attempt"], retry["retry_attempt"]) == (0, 1)
    assert retry["envelope_id"] != first["envelope_id"]
    tries = [d for d in fake_slack.deliveries if d.payload.get("event_id") == sent["event_id"]]
    assert [(d.connection, d.status) for d in tries] == [(1, 0), (2, 200)]  # no try went to the silent one again

    await silent.close()  # a connection that closes holding an envelope: the retry goes to a live one
    await fake_slack.wait_for(lambda: len(fake_slack.socket.connections) == 1)
    later = await fake_slack.user_sends_dm(ALICE, "still there?")
    assert later["status"] == 200 and later["delivery"].connection == 2
    await answering.close()


async def test_bolt_apps_on_three_connections_each_get_their_share(fake_slack: FakeSlack) -> None:
    seen: dict[int, list[str]] = {0: [], 1: [], 2: []}
    handlers = []

    def listener(texts: list[str]) -> Callable[[dict[str, Any]], Awaitable[None]]:
        async def on_message(event: dict[str, Any]) -> None:  # Bolt passes arguments by name
            texts.append(event["text"])

        return on_message

    for number in range(3):
        app = AsyncApp(client=AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url))
        app.event("message")(listener(seen[number]))
        handler = AsyncSocketModeHandler(app, fake_slack.app_token)
        await handler.connect_async()  # type: ignore[no-untyped-call]
        handlers.append(handler)
    try:
        await fake_slack.wait_for(lambda: len(fake_slack.socket.connections) == 3)
        for n in range(9):
            assert (await fake_slack.user_sends_dm(ALICE, f"hello {n}"))["status"] == 200
        await fake_slack.wait_for(lambda: sum(len(texts) for texts in seen.values()) == 9)
        assert sorted(len(texts) for texts in seen.values()) == [3, 3, 3]
    finally:
        for handler in handlers:
            await handler.close_async()  # type: ignore[no-untyped-call]
