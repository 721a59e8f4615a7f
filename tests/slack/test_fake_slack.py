"""The fake Slack itself, driven by the real slack_sdk AsyncWebClient and a real Bolt AsyncApp over loopback."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from aiohttp import web
from fake_slack import FakeSlack
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp, AsyncAssistant
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

ALICE = "U0ALICE01"
SPEC = Path(__file__).resolve().parents[1] / "specs" / "slack-events-api-async-v1.json"
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


async def test_stream_start_append_stop_with_blocks(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    channel = fake_slack.dm_channel_of(ALICE)
    root = await client.chat_postMessage(channel=channel, text="Interview started")
    await client.assistant_threads_setStatus(channel_id=channel, thread_ts=root["ts"], status="is thinking…")
    stream = await client.chat_stream(channel=channel, thread_ts=root["ts"], buffer_size=5)
    await stream.append(markdown_text="Hel")
    await stream.append(markdown_text="lo, ")
    await stream.append(markdown_text="world")
    buttons = [
        {
            "type": "actions",
            "elements": [{"type": "button", "action_id": "yes", "text": {"type": "plain_text", "text": "Yes"}}],
        }
    ]
    await stream.stop(markdown_text="!", blocks=buttons)
    [msg] = [m for m in fake_slack.messages(channel, thread_ts=root["ts"]) if m["ts"] == stream.ts]
    assert msg["text"] == "Hello, world!"
    assert msg["streaming"] == "stopped" and msg["blocks"] == buttons
    assert [c.method for c in fake_slack.calls][-3:] == ["chat.startStream", "chat.appendStream", "chat.stopStream"]
    assert fake_slack.thread_status(channel, root["ts"]) == ["is thinking…", ""]
    with pytest.raises(SlackApiError) as err:
        await client.chat_appendStream(channel=channel, ts=str(stream.ts), markdown_text="more")
    assert err.value.response["error"] == "message_not_in_streaming_state"
    with pytest.raises(SlackApiError) as err:
        await client.chat_startStream(channel=channel, thread_ts="")
    assert err.value.response["error"] == "invalid_arguments"


async def test_stream_expires_then_update_recovers(fake_slack: FakeSlack) -> None:
    fake_slack.stream_ttl = 0.2
    client = client_for(fake_slack)
    channel = fake_slack.dm_channel_of(ALICE)
    root = await client.chat_postMessage(channel=channel, text="root")
    started = await client.chat_startStream(channel=channel, thread_ts=root["ts"], markdown_text="partial ")
    await client.chat_appendStream(channel=channel, ts=started["ts"], markdown_text="text")
    await fake_slack.wait_for(lambda: fake_slack.messages(channel)[-1]["streaming"] == "expired", timeout=3)
    with pytest.raises(SlackApiError) as err:
        await client.chat_appendStream(channel=channel, ts=started["ts"], markdown_text=" lost?")
    assert err.value.response["error"] == "message_not_in_streaming_state"
    with pytest.raises(SlackApiError) as err:
        await client.chat_stopStream(channel=channel, ts=started["ts"])
    assert err.value.response["error"] == "message_not_in_streaming_state"
    await client.chat_update(channel=channel, ts=started["ts"], text="partial text lost? no")
    last = fake_slack.messages(channel)[-1]
    assert last["text"] == "partial text lost? no" and last["update_count"] == 1


async def test_forced_stream_expiry_and_channel_streams_need_recipient(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    channel = fake_slack.dm_channel_of(ALICE)
    root = await client.chat_postMessage(channel=channel, text="root")
    started = await client.chat_startStream(channel=channel, thread_ts=root["ts"])
    fake_slack.expire_stream(channel, started["ts"])
    with pytest.raises(SlackApiError) as err:
        await client.chat_stopStream(channel=channel, ts=started["ts"], markdown_text="end")
    assert err.value.response["error"] == "message_not_in_streaming_state"
    fake_slack.workspace().messages["C0GENERAL"] = []
    with pytest.raises(SlackApiError) as err:
        await client.chat_startStream(channel="C0GENERAL", thread_ts=root["ts"])
    assert err.value.response["error"] == "missing_recipient_user_id"
    ok = await client.chat_startStream(
        channel="C0GENERAL", thread_ts=root["ts"], recipient_user_id=ALICE, recipient_team_id=fake_slack.team_id
    )
    assert ok["ok"]


async def test_signed_event_verified_and_forged_signature_rejected(fake_slack: FakeSlack, serve_http: Serve) -> None:
    app = await bolt_app(fake_slack, serve_http)
    seen: list[str] = []

    @app.event("message")
    async def on_message(event: dict[str, Any]) -> None:
        seen.append(event["text"])

    challenge = await fake_slack.verify_url()
    assert challenge.status == 200 and challenge.json == {"challenge": challenge.payload["challenge"]}
    fake_slack.forge_signature = True
    forged = await fake_slack.user_sends_dm(ALICE, "forged")
    assert forged["status"] == 401
    fake_slack.forge_signature = False
    body = json.dumps({"type": "event_callback"}).encode()
    stale = await fake_slack.send_raw(
        body,
        {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": str(int(time.time()) - 3600),
            "X-Slack-Signature": "v0=00",
        },
    )
    assert stale.status == 401
    ok = await fake_slack.user_sends_dm(ALICE, "genuine")
    assert ok["status"] == 200
    await fake_slack.wait_for(lambda: seen == ["genuine"])


async def test_redelivered_event_carries_retry_headers(fake_slack: FakeSlack, serve_http: Serve) -> None:
    app = await bolt_app(fake_slack, serve_http)
    seen: list[tuple[str, list[str] | None]] = []

    @app.event("message")
    async def on_message(body: dict[str, Any], request: Any) -> None:
        seen.append((body["event_id"], request.headers.get("x-slack-retry-num")))

    sent = await fake_slack.user_sends_dm(ALICE, "once")
    assert await fake_slack.redeliver(sent["event_id"]) == 200
    assert await fake_slack.redeliver(sent["event_id"]) == 200
    await fake_slack.wait_for(lambda: len(seen) == 3)
    assert seen == [(sent["event_id"], None), (sent["event_id"], ["1"]), (sent["event_id"], ["2"])]
    assert fake_slack.deliveries[-1].retry_reason == "http_timeout"


async def test_429_is_retried_by_sdk_handler(fake_slack: FakeSlack) -> None:
    channel = fake_slack.dm_channel_of(ALICE)
    fake_slack.force_429("chat.postMessage", count=2, retry_after=0)
    client = client_for(fake_slack, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])
    posted = await client.chat_postMessage(channel=channel, text="eventually")
    assert posted["ok"]
    assert [c.status for c in fake_slack.calls_of("chat.postMessage")] == [429, 429, 200]
    assert len(fake_slack.messages(channel)) == 1


async def test_tier_limit_answers_429_with_retry_after(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    channel = fake_slack.dm_channel_of(ALICE)
    posted = await client.chat_postMessage(channel=channel, text="x")
    fake_slack.set_tier_limit("chat.update", per_minute=2)
    for i in range(2):
        await client.chat_update(channel=channel, ts=posted["ts"], text=f"v{i}")
    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel=channel, ts=posted["ts"], text="v3")
    assert err.value.response.status_code == 429
    assert err.value.response["error"] == "ratelimited"
    assert 1 <= int(err.value.response.headers["Retry-After"]) <= 60
    stats = fake_slack.rate_stats("chat.update")
    assert (stats.accepted, stats.limited, stats.peak) == (2, 1, 2)
    # another workspace has its own budget
    other = fake_slack.add_workspace("T0OTHER01")
    fake_slack.add_user("U0BOB0001", "bob", team_id="T0OTHER01")
    other_client = AsyncWebClient(token=other.bot_token, base_url=fake_slack.api_url)
    msg = await other_client.chat_postMessage(channel="U0BOB0001", text="hi")
    await other_client.chat_update(channel=msg["channel"], ts=msg["ts"], text="hi again")


def _button(action_id: str, text: str = "Go") -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}}


@pytest.mark.parametrize(
    ("blocks", "error"),
    [
        ([{"type": "divider"}] * 51, "invalid_blocks"),
        ([{"type": "actions", "elements": [_button(f"b{i}") for i in range(26)]}], "invalid_blocks"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "invalid_blocks"),
        ([{"type": "actions", "elements": [_button("b", "x" * 76)]}], "invalid_blocks"),
        ([{"type": "actions", "elements": [_button("b" * 256)]}], "invalid_blocks"),
        ([{"type": "fancy_block"}], "invalid_blocks"),
        (
            [
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": "pick"},
                    "accessory": {
                        "type": "static_select",
                        "action_id": "s",
                        "options": [
                            {"text": {"type": "plain_text", "text": f"o{i}"}, "value": str(i)} for i in range(101)
                        ],
                    },
                }
            ],
            "invalid_blocks",
        ),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 2900}}] * 5, "msg_blocks_too_long"),
        ("[not json", "invalid_blocks_format"),
    ],
)
async def test_block_validation(fake_slack: FakeSlack, blocks: Any, error: str) -> None:
    client = client_for(fake_slack)
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel=fake_slack.dm_channel_of(ALICE), text="t", blocks=blocks)
    assert err.value.response["error"] == error
    assert fake_slack.messages(fake_slack.dm_channel_of(ALICE)) == []


async def test_valid_blocks_accepted(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "y" * 2900}},
        {"type": "actions", "elements": [_button(f"b{i}") for i in range(25)]},
    ]
    blocks += [{"type": "divider"}] * 48
    posted = await client.chat_postMessage(channel=fake_slack.dm_channel_of(ALICE), text="t", blocks=blocks)
    assert posted["message"]["blocks"] == blocks


async def test_removed_app_answers_like_slack(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    channel = fake_slack.dm_channel_of(ALICE)
    fake_slack.remove_app(error="channel_not_found")
    assert (await client.auth_test())["ok"]
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel=channel, text="x")
    assert err.value.response["error"] == "channel_not_found"
    fake_slack.remove_app()
    for call in (client.auth_test(), client.chat_postMessage(channel=channel, text="x")):
        with pytest.raises(SlackApiError) as err:
            await call
        assert err.value.response["error"] == "account_inactive"


def _question_blocks() -> list[dict[str, Any]]:
    options = [{"text": {"type": "plain_text", "text": t}, "value": t.lower()} for t in ("Red", "Green", "Blue")]
    return [
        {"type": "section", "block_id": "q", "text": {"type": "mrkdwn", "text": "Pick colours"}},
        {"type": "actions", "block_id": "pick", "elements": [
            {"type": "checkboxes", "action_id": "colours", "options": options},
            {"type": "static_select", "action_id": "favourite", "options": options},
            {**_button("submit", "Submit"), "value": "submit"},
        ]},
    ]  # fmt: skip


async def test_clicks_reach_bolt_with_state_and_respond_replaces(fake_slack: FakeSlack, serve_http: Serve) -> None:
    app = await bolt_app(fake_slack, serve_http)
    payloads: list[dict[str, Any]] = []

    @app.action("colours")
    @app.action("favourite")
    async def on_pick(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        payloads.append(body)

    @app.action("submit")
    async def on_submit(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        payloads.append(body)
        picked = body["state"]["values"]["pick"]["colours"]["selected_options"]
        await respond(replace_original=True, text="You chose " + ", ".join(o["value"] for o in picked))

    client = client_for(fake_slack)
    channel = fake_slack.dm_channel_of(ALICE)
    question = await client.chat_postMessage(channel=channel, text="Pick colours", blocks=_question_blocks())
    ts = question["ts"]
    assert await fake_slack.click(ALICE, channel, ts, "colours", selected=["red", "blue"]) == 200
    assert await fake_slack.click(ALICE, channel, ts, "favourite", selected=["green"]) == 200
    assert await fake_slack.click(ALICE, channel, ts, "submit") == 200
    await fake_slack.wait_for(lambda: fake_slack.messages(channel)[0]["text"] == "You chose red, blue")
    checkbox, select, submit = payloads
    assert checkbox["type"] == "block_actions" and checkbox["user"]["id"] == ALICE
    assert [o["value"] for o in checkbox["actions"][0]["selected_options"]] == ["red", "blue"]
    assert select["actions"][0]["selected_option"]["value"] == "green"
    assert submit["actions"][0]["value"] == "submit" and submit["message"]["ts"] == ts
    assert submit["state"]["values"]["pick"]["favourite"]["selected_option"]["value"] == "green"
    current = fake_slack.messages(channel)[0]
    assert current["blocks"] is None and current["update_count"] == 1
    # a stale client still shows the old buttons: the click arrives with the old message
    assert await fake_slack.click(ALICE, channel, ts, "submit") == 200
    await fake_slack.wait_for(lambda: len(payloads) == 4)
    assert payloads[3]["message"]["blocks"] == _question_blocks()
    with pytest.raises(LookupError):
        await fake_slack.click(ALICE, channel, ts, "no-such-action")
    with pytest.raises(LookupError):
        await fake_slack.click(ALICE, channel, ts, "favourite", selected=["purple"])


async def test_slash_command_modal_and_view_submission(fake_slack: FakeSlack, serve_http: Serve) -> None:
    app = await bolt_app(fake_slack, serve_http)
    submitted: list[str] = []
    modal = {
        "type": "modal", "callback_id": "other", "title": {"type": "plain_text", "text": "Other"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [{"type": "input", "block_id": "answer", "label": {"type": "plain_text", "text": "Your answer"},
                    "element": {"type": "plain_text_input", "action_id": "text"}}],
    }  # fmt: skip

    @app.command("/interview")
    async def on_command(ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        await ack(text=f"Starting {command['text']}…")
        await client.views_open(trigger_id=command["trigger_id"], view=modal)

    @app.view("other")
    async def on_submit(ack: Any, view: dict[str, Any]) -> None:
        value = view["state"]["values"]["answer"]["text"]["value"]
        if not value.strip():
            await ack(response_action="errors", errors={"answer": "Please write something"})
            return
        await ack()
        submitted.append(value)

    answer = await fake_slack.slash_command(ALICE, "/interview", "start onboarding")
    assert answer["status"] == 200
    assert fake_slack.ephemerals(ALICE)[0]["text"] == "Starting start onboarding…"
    await fake_slack.wait_for(lambda: fake_slack.views_opened())
    view_id = fake_slack.views_opened()[0]["id"]
    rejected = await fake_slack.submit_view(ALICE, view_id, {"answer": {"text": "  "}})
    assert rejected["response_action"] == "errors" and rejected["errors"] == {"answer": "Please write something"}
    assert [v["id"] for v in fake_slack.open_modals(ALICE)] == [view_id]
    accepted = await fake_slack.submit_view(ALICE, view_id, {"answer": {"text": "purple"}})
    assert accepted["status"] == 200 and accepted["response_action"] is None
    assert submitted == ["purple"] and fake_slack.open_modals(ALICE) == []
    with pytest.raises(SlackApiError) as err:
        await client_for(fake_slack).views_open(trigger_id="12345.bogus", view=modal)
    assert err.value.response["error"] == "invalid_trigger_id"


async def test_app_home_publish_and_click(fake_slack: FakeSlack, serve_http: Serve) -> None:
    app = await bolt_app(fake_slack, serve_http)
    clicks: list[dict[str, Any]] = []

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any], client: AsyncWebClient) -> None:
        blocks = [
            {"type": "section", "text": {"type": "mrkdwn", "text": "*Your interviews*"}},
            {"type": "actions", "elements": [{**_button("start", "Start"), "value": "onboarding"}]},
        ]
        await client.views_publish(user_id=event["user"], view={"type": "home", "blocks": blocks})

    @app.action("start")
    async def on_start(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        clicks.append(body)

    assert await fake_slack.open_app_home(ALICE) == 200
    await fake_slack.wait_for(lambda: fake_slack.home_view(ALICE) is not None)
    home = fake_slack.home_view(ALICE)
    assert home is not None and home["type"] == "home"
    assert await fake_slack.click_in_view(ALICE, home["id"], "start") == 200
    await fake_slack.wait_for(lambda: clicks)
    assert clicks[0]["container"] == {"type": "view", "view_id": home["id"]}
    assert clicks[0]["actions"][0]["value"] == "onboarding"
    with pytest.raises(SlackApiError) as err:
        await client_for(fake_slack).views_publish(user_id=ALICE, view={"type": "home", "blocks": []}, hash="stale")
    assert err.value.response["error"] == "hash_conflict"


async def test_slow_ack_is_reported(fake_slack: FakeSlack, serve_http: Serve) -> None:
    app = await bolt_app(fake_slack, serve_http)
    fake_slack.ack_timeout = 0.2

    @app.command("/interview")
    async def on_command(ack: Any) -> None:
        await asyncio.sleep(0.5)
        await ack()

    answer = await fake_slack.slash_command(ALICE, "/interview", "status")
    assert answer["status"] == 0 and answer["delivery"].timed_out


async def test_socket_mode_delivery_ack_and_reconnect(fake_slack: FakeSlack) -> None:
    app = AsyncApp(client=client_for(fake_slack))
    seen: list[str] = []

    @app.event("message")
    async def on_message(event: dict[str, Any], say: Any) -> None:
        seen.append(event["text"])
        await say(text="got it", thread_ts=event["ts"])

    handler = AsyncSocketModeHandler(app, fake_slack.app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await fake_slack.wait_for(lambda: fake_slack.socket.connected)
        first = await fake_slack.user_sends_dm(ALICE, "over the socket")
        assert first["status"] == 200 and first["delivery"].transport == "socket"
        await fake_slack.socket.request_reconnect()
        await fake_slack.wait_for(lambda: fake_slack.socket.connects == 2 and fake_slack.socket.connected)
        second = await fake_slack.user_sends_dm(ALICE, "after reconnect")
        assert second["status"] == 200
        channel = fake_slack.dm_channel_of(ALICE)
        await fake_slack.wait_for(lambda: len(fake_slack.bot_messages(channel)) == 2)
        assert seen == ["over the socket", "after reconnect"]
        assert len(fake_slack.calls_of("apps.connections.open")) == 2
        await fake_slack.socket.drop_all()  # a network blip: the client reconnects by itself
        await fake_slack.wait_for(lambda: fake_slack.socket.connects == 3 and fake_slack.socket.connected)
        third = await fake_slack.user_sends_dm(ALICE, "after a drop")
        assert third["status"] == 200
        await fake_slack.wait_for(lambda: len(seen) == 3)
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


async def test_envelope_matches_slack_events_schema(fake_slack: FakeSlack, serve_http: Serve) -> None:
    await bolt_app(fake_slack, serve_http)
    spec = json.loads(SPEC.read_text())
    schema = spec["components"]["schemas"]["GenericEventWrapper"]
    sent = await fake_slack.user_sends_dm(ALICE, "schema check", files=1)
    jsonschema.validate(sent["envelope"], schema)
    event = sent["envelope"]["event"]
    assert event["subtype"] == "file_share" and len(event["files"]) == 1
    assert event["channel_type"] == "im" and event["channel"].startswith("D")


async def test_failed_events_are_redelivered_automatically(fake_slack: FakeSlack, serve_http: Serve) -> None:
    app = await bolt_app(fake_slack, serve_http)
    fake_slack.ack_timeout = 0.3
    fake_slack.auto_retries = 3
    attempts: list[list[str] | None] = []

    @app.middleware
    async def slow_first_attempt(request: Any, next: Any) -> Any:
        retry = request.headers.get("x-slack-retry-num")
        attempts.append(retry)
        if retry is None:
            await asyncio.sleep(0.6)  # the first attempt misses Slack's ack deadline
        return await next()

    @app.event("message")
    async def on_message() -> None:
        pass

    sent = await fake_slack.user_sends_dm(ALICE, "slow")
    assert sent["delivery"].timed_out
    retries = [d for d in fake_slack.deliveries if d.retry_num]
    assert [(d.retry_num, d.retry_reason, d.status) for d in retries] == [(1, "http_timeout", 200)]
    assert retries[0].payload["event_id"] == sent["event_id"]
    await fake_slack.wait_for(lambda: len(attempts) == 2)


async def test_bot_messages_echo_and_uninstall_events(fake_slack: FakeSlack, serve_http: Serve) -> None:
    app = await bolt_app(fake_slack, serve_http)
    fake_slack.echo_bot_messages = True
    uninstalled: list[str] = []

    @app.event("app_uninstalled")
    async def on_uninstalled(event: dict[str, Any]) -> None:
        uninstalled.append(event["type"])

    @app.event("tokens_revoked")
    async def on_revoked(event: dict[str, Any]) -> None:
        uninstalled.append(event["type"])

    client = client_for(fake_slack)
    posted = await client.chat_postMessage(channel=ALICE, text="from the app")
    await fake_slack.wait_for(lambda: any(d.payload.get("event", {}).get("bot_id") for d in fake_slack.deliveries))
    echo = next(d for d in fake_slack.deliveries if d.payload.get("event", {}).get("bot_id"))
    assert echo.payload["event"]["ts"] == posted["ts"] and echo.status == 200
    deliveries = await fake_slack.uninstall()
    assert [d.status for d in deliveries] == [200, 200]
    await fake_slack.wait_for(lambda: uninstalled == ["app_uninstalled", "tokens_revoked"])
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel=ALICE, text="still there?")
    assert err.value.response["error"] == "account_inactive"


async def test_ephemeral_buttons_are_clickable(fake_slack: FakeSlack, serve_http: Serve) -> None:
    app = await bolt_app(fake_slack, serve_http)
    clicks: list[dict[str, Any]] = []

    @app.action("resume")
    async def on_resume(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        clicks.append(body)

    client = client_for(fake_slack)
    channel = fake_slack.dm_channel_of(ALICE)
    blocks = [{"type": "actions", "elements": [_button("resume", "Resume")]}]
    sent = await client.chat_postEphemeral(channel=channel, user=ALICE, text="Resume?", blocks=blocks)
    assert await fake_slack.click(ALICE, channel, sent["message_ts"], "resume") == 200
    await fake_slack.wait_for(lambda: clicks)
    assert clicks[0]["container"]["is_ephemeral"] is True and "message" not in clicks[0]
    fake_slack.add_user("U0BOB0001", "bob")
    with pytest.raises(SlackApiError) as err:
        await client.chat_postEphemeral(channel=channel, user="U0BOB0001", text="not yours")
    assert err.value.response["error"] == "user_not_in_channel"


async def test_concurrent_callers_share_one_workspace_budget(fake_slack: FakeSlack) -> None:
    users = [f"U0USER{i:03d}" for i in range(8)]
    for user in users:
        fake_slack.add_user(user, user.lower())
    fake_slack.set_tier_limit("chat.update", per_minute=5, window=1.0)
    client = client_for(fake_slack, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=5)])
    posted = [await client.chat_postMessage(channel=user, text="start") for user in users]
    await asyncio.gather(*(client.chat_update(channel=p["channel"], ts=p["ts"], text="done") for p in posted))
    stats = fake_slack.rate_stats("chat.update")
    assert stats.accepted == 8 and stats.limited >= 3 and stats.peak == 5
    assert all(fake_slack.messages(p["channel"])[0]["text"] == "done" for p in posted)
    refused = [c for c in fake_slack.calls_of("chat.update") if c.status == 429]
    assert len(refused) == stats.limited


async def test_view_errors_and_post_message_per_channel_budget(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    too_many = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    with pytest.raises(SlackApiError) as err:
        await client.views_publish(user_id=ALICE, view=too_many)
    assert err.value.response["error"] == "invalid_arguments"
    assert "no more than 100 items" in err.value.response["response_metadata"]["messages"][0]
    fake_slack.add_user("U0BOB0001", "bob")
    # one call per channel per hour: no stall of a loaded machine can let the window slide between the calls
    fake_slack.set_tier_limit("chat.postMessage", per_minute=1, window=3600.0)
    await client.chat_postMessage(channel=ALICE, text="one")
    await client.chat_postMessage(channel="U0BOB0001", text="other channel, own budget")
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel=fake_slack.dm_channel_of(ALICE), text="two")
    assert err.value.response.status_code == 429


async def test_bolt_assistant_thread_flow(fake_slack: FakeSlack, serve_http: Serve) -> None:
    app = await bolt_app(fake_slack, serve_http)
    assistant = AsyncAssistant()

    @assistant.thread_started
    async def on_started(say: Any, set_suggested_prompts: Any) -> None:
        await say("Hi! Ready for a short interview?")
        await set_suggested_prompts(prompts=[{"title": "Start", "message": "start"}])

    @assistant.user_message
    async def on_user_message(payload: dict[str, Any], set_status: Any, say: Any) -> None:
        await set_status("is thinking…")
        await say(f"You said: {payload['text']}")

    app.use(assistant)
    thread = await fake_slack.start_assistant_thread(ALICE)
    assert thread["status"] == 200
    channel, thread_ts = thread["channel"], thread["thread_ts"]
    await fake_slack.wait_for(lambda: "prompts" in fake_slack.assistant_threads.get((channel, thread_ts), {}))
    sent = await fake_slack.user_sends_dm(ALICE, "start", thread_ts=thread_ts)
    assert sent["event"]["thread_ts"] == thread_ts
    await fake_slack.wait_for(lambda: len(fake_slack.bot_messages(channel, thread_ts)) == 3)
    texts = [m["text"] for m in fake_slack.bot_messages(channel, thread_ts)]
    assert texts[1:] == ["Hi! Ready for a short interview?", "You said: start"]
    assert fake_slack.thread_status(channel, thread_ts) == ["is thinking…", ""]


async def test_server_errors_and_latency(fake_slack: FakeSlack) -> None:
    channel = fake_slack.dm_channel_of(ALICE)
    fake_slack.force_http_error("chat.postMessage", status=503)
    plain = client_for(fake_slack, retry_handlers=[])
    with pytest.raises(SlackApiError) as err:
        await plain.chat_postMessage(channel=channel, text="x")
    assert err.value.response.status_code == 503
    fake_slack.force_http_error("chat.postMessage", status=500)
    fake_slack.set_latency("chat.postMessage", 0.05)
    retrying = client_for(fake_slack, retry_handlers=[AsyncServerErrorRetryHandler(max_retry_count=1)])
    posted = await retrying.chat_postMessage(channel=channel, text="after a 500")
    assert posted["ok"] and [c.status for c in fake_slack.calls_of("chat.postMessage")] == [503, 500, 200]


async def test_stream_expires_after_append_limit(fake_slack: FakeSlack) -> None:
    fake_slack.stream_append_limit = 2
    client = client_for(fake_slack)
    channel = fake_slack.dm_channel_of(ALICE)
    root = await client.chat_postMessage(channel=channel, text="root")
    stream = await client.chat_stream(channel=channel, thread_ts=root["ts"], buffer_size=1)
    await stream.append(markdown_text="one ")  # chat.startStream
    await stream.append(markdown_text="two ")  # append 1
    await stream.append(markdown_text="three ")  # append 2: accepted, then the stream expires
    with pytest.raises(SlackApiError) as err:
        await stream.append(markdown_text="four")
    assert err.value.response["error"] == "message_not_in_streaming_state"
    [msg] = [m for m in fake_slack.messages(channel) if m["ts"] == stream.ts]
    assert msg["text"] == "one two three " and msg["streaming"] == "expired" and msg["stream_expired"]
