"""The fake Slack answers as Slack documents for the streaming methods and chat.update (method reference pages,
as copied by slack-ruby/slack-api-ref): driven by the real slack_sdk client."""

from __future__ import annotations

from typing import Any

import pytest
from fake_slack import FakeSlack
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

ALICE = "U0ALICE01"


def client_for(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)


async def thread_of(fake: FakeSlack, client: AsyncWebClient) -> tuple[str, str]:
    channel = fake.dm_channel_of(ALICE)
    anchor = await client.chat_postMessage(channel=channel, text="anchor")
    return channel, str(anchor["ts"])


async def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    return str(raised.value.response["error"])


async def test_a_streaming_message_cannot_be_updated_until_stopped(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    channel, thread = await thread_of(fake_slack, client)
    started = await client.chat_startStream(channel=channel, thread_ts=thread, markdown_text="Hello")
    ts = str(started["ts"])
    assert await error_of(client.chat_update(channel=channel, ts=ts, text="Hi")) == "streaming_state_conflict"
    await client.chat_stopStream(channel=channel, ts=ts)
    await client.chat_update(channel=channel, ts=ts, text="Hi")


async def test_channels_slack_does_not_stream_into_answer_channel_type_not_supported(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    channel, thread = await thread_of(fake_slack, client)
    fake_slack.unstreamable_channels.add(channel)
    call = client.chat_startStream(channel=channel, thread_ts=thread, markdown_text="Hello")
    assert await error_of(call) == "channel_type_not_supported"


async def test_more_than_50_blocks_on_a_stream_answer_msg_blocks_too_many(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    channel, thread = await thread_of(fake_slack, client)
    started = await client.chat_startStream(channel=channel, thread_ts=thread, markdown_text="Hello")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"b{i}"}} for i in range(51)]
    call = client.chat_stopStream(channel=channel, ts=str(started["ts"]), blocks=blocks)
    assert await error_of(call) == "msg_blocks_too_many"


async def test_markdown_text_goes_alone(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    channel = fake_slack.dm_channel_of(ALICE)
    call = client.chat_postMessage(channel=channel, markdown_text="**hi**", text="hi")
    assert await error_of(call) == "markdown_text_conflict"
    posted = await client.chat_postMessage(channel=channel, markdown_text="**hi** [there](https://example.com)")
    shown = fake_slack.rendered(channel, str(posted["ts"]))
    assert shown == '<p><strong>hi</strong> <a href="https://example.com">there</a></p>'


async def test_selects_take_up_to_100_groups_of_100_options(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    channel = fake_slack.dm_channel_of(ALICE)

    def select(groups: int, per_group: int) -> list[dict[str, Any]]:
        option_groups = [
            {
                "label": {"type": "plain_text", "text": f"Group {g}"},
                "options": [
                    {"text": {"type": "plain_text", "text": f"{g}.{i}"}, "value": f"{g}.{i}"} for i in range(per_group)
                ],
            }
            for g in range(groups)
        ]
        element = {"type": "multi_static_select", "action_id": "pick", "option_groups": option_groups}
        return [{"type": "actions", "elements": [element]}]

    await client.chat_postMessage(channel=channel, text="pick", blocks=select(3, 100))  # 300 options: fine
    assert await error_of(client.chat_postMessage(channel=channel, text="x", blocks=select(1, 101))) == "invalid_blocks"
