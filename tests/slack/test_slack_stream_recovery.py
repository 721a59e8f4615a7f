"""Streams the adapter gives up while Slack still holds them open, and conversations Slack does not stream into.

Slack documents `streaming_state_conflict` on chat.update ("The message is currently streaming text and cannot
be edited") and `channel_type_not_supported` on the streaming methods; the fake answers both like Slack.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fake_slack import FakeSlack

from adapters.slack.adapter import SlackAdapter, conversation_key
from adapters.slack.budget import SlackBudget
from adapters.slack.runner import make_client
from bot.core.adapter_state import ScopedState
from bot.core.keys import ConversationKey
from storage.sqlite import SQLiteStore

USER = "U0ALICE01"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    db = SQLiteStore(tmp_path / "slack.db")
    await db.open()
    yield db
    await db.close()


@pytest.fixture
async def adapter(fake_slack: FakeSlack, store: SQLiteStore) -> AsyncIterator[SlackAdapter]:
    budget = SlackBudget()
    client = make_client(fake_slack.bot_token, fake_slack.api_url)
    yield SlackAdapter(client, lambda scope: ScopedState(store, scope), budget=budget, update_interval=0.0)
    await budget.close()


@pytest.fixture
def key(fake_slack: FakeSlack) -> ConversationKey:
    return conversation_key(fake_slack.team_id, fake_slack.dm_channel_of(USER), USER)


def replies(fake: FakeSlack, key: ConversationKey, thread: str) -> list[dict[str, Any]]:
    """The bot's replies in ``thread`` (the anchor and its consent note left out)."""
    return [m for m in fake.messages(key.channel, thread) if m["bot"] and m["ts"] != thread]


async def test_a_failed_stop_stops_the_stream_first_then_updates_the_same_message(
    fake_slack: FakeSlack, adapter: SlackAdapter, key: ConversationKey
) -> None:
    reply = await adapter.begin_reply(key)
    thread = str(await adapter.thread_of(key))
    await reply.append("First part. ")
    fake_slack.force_error("chat.stopStream", "fatal_error")  # the closing stop fails; Slack still streams
    await reply.finish("First part. Second part.", None)
    [message] = replies(fake_slack, key, thread)
    assert message["text"] == "First part. Second part."
    assert message["streaming"] == "stopped"
    updates = fake_slack.calls_of("chat.update")
    assert updates and all(c.response["ok"] for c in updates)  # never a chat.update on a live stream


async def test_a_stream_that_cannot_be_stopped_continues_in_a_new_message_without_losing_a_character(
    fake_slack: FakeSlack, adapter: SlackAdapter, key: ConversationKey
) -> None:
    reply = await adapter.begin_reply(key)
    thread = str(await adapter.thread_of(key))
    await reply.append("First part. ")
    fake_slack.force_error("chat.stopStream", "fatal_error", count=2)  # the stop and the best-effort stop fail
    await reply.finish("First part. Second part.", None)
    messages = replies(fake_slack, key, thread)
    assert "".join(m["text"] for m in messages) == "First part. Second part."
    assert [m["text"] for m in messages] == ["First part. ", "Second part."]
    assert any(c.response.get("error") == "streaming_state_conflict" for c in fake_slack.calls_of("chat.update"))


async def test_a_recovered_reply_rewrites_a_live_stream_after_stopping_it(
    fake_slack: FakeSlack, adapter: SlackAdapter, key: ConversationKey
) -> None:
    reply = await adapter.begin_reply(key)
    thread = str(await adapter.thread_of(key))
    await reply.append("Helo wrold. ")
    await reply.finish("Hello world. All good.", None)  # the text differs from what streamed: rewritten
    [message] = replies(fake_slack, key, thread)
    assert message["text"] == "Hello world. All good."
    assert message["streaming"] == "stopped"


async def test_a_conversation_slack_does_not_stream_into_stops_asking_for_streams(
    fake_slack: FakeSlack, adapter: SlackAdapter, key: ConversationKey
) -> None:
    fake_slack.unstreamable_channels.add(key.channel)
    first = await adapter.begin_reply(key)
    thread = str(await adapter.thread_of(key))
    await first.append("One, ")
    await first.append("two.")
    await first.finish("One, two.", None)
    second = await adapter.begin_reply(key)
    await second.append("Three.")
    await second.finish("Three, four.", None)
    assert [m["text"] for m in replies(fake_slack, key, thread)] == ["One, two.", "Three, four."]
    starts = fake_slack.calls_of("chat.startStream")
    assert len(starts) == 1 and starts[0].response["error"] == "channel_type_not_supported"
    # other conversations still stream
    fake_slack.add_user("U0BOB0001", "bob")
    other = conversation_key(fake_slack.team_id, fake_slack.dm_channel_of("U0BOB0001"), "U0BOB0001")
    third = await adapter.begin_reply(other)
    await third.append("Hi Bob.")
    await third.finish("Hi Bob.", None)
    [bob] = replies(fake_slack, other, str(await adapter.thread_of(other)))
    assert bob["text"] == "Hi Bob." and bob["streaming"] == "stopped"
