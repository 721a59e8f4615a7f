"""The fake Slack itself, driven by the real slack_sdk AsyncWebClient and a real Bolt AsyncApp over loopback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from fake_slack import FakeSlack
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

ALICE = "U0ALICE01"
Serve = Callable[[web.Application], Awaitable[str]]


def client_for(fake: FakeSlack, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=fake.bot_token, base_url=fake.api_url, **kwargs)


async def bolt_app(fake: FakeSlack, serve: Serve) -> AsyncApp:
    """A real Bolt AsyncApp in HTTP mode, served on loopback and registered as the fake's events URL."""
    app = AsyncApp(client=client_for(fake), signing_secret=fake.signing_secret)
    base = await serve(app.web_app(path="/slack/events"))
    fake.set_events_url(f"{base}/slack/events")
    return app


async def test_dm_event_reaches_bolt_and_reply_lands(fake_slack: FakeSlack, serve_http: Serve) -> None:
    app = await bolt_app(fake_slack, serve_http)
    seen: list[dict[str, Any]] = []

    @app.event("message")
    async def on_message(event: dict[str, Any], say: Any) -> None:
        seen.append(event)
        await say(text=f"echo: {event['text']}", thread_ts=event["ts"])

    sent = await fake_slack.user_sends_dm(ALICE, "hello there")
    assert sent["status"] == 200
    channel = fake_slack.dm_channel_of(ALICE)
    await fake_slack.wait_for(lambda: fake_slack.bot_messages(channel))
    assert seen[0]["channel_type"] == "im" and seen[0]["user"] == ALICE
    reply = fake_slack.bot_messages(channel)[0]
    assert reply["text"] == "echo: hello there"
    assert reply["thread_ts"] == sent["ts"]
    assert [c.method for c in fake_slack.calls] == ["auth.test", "chat.postMessage"]


async def test_post_update_delete_with_sdk(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    opened = await client.conversations_open(users=ALICE)
    channel = opened["channel"]["id"]
    assert channel == fake_slack.dm_channel_of(ALICE)
    posted = await client.chat_postMessage(channel=channel, text="first")
    await client.chat_update(channel=channel, ts=posted["ts"], text="second")
    [msg] = fake_slack.messages(channel)
    assert (msg["text"], msg["update_count"], msg["versions"]) == ("second", 1, [("first", None)])
    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel=channel, ts="1.000001", text="x")
    assert err.value.response["error"] == "message_not_found"
    await client.chat_delete(channel=channel, ts=posted["ts"])
    assert fake_slack.messages(channel) == []
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C0NOPE", text="x")
    assert err.value.response["error"] == "channel_not_found"
    bad = AsyncWebClient(token="xoxb-wrong", base_url=fake_slack.api_url)
    with pytest.raises(SlackApiError) as err:
        await bad.auth_test()
    assert err.value.response["error"] == "invalid_auth"
