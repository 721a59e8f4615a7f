"""Reply streams, questions and notices: the adapter driven directly against the fake Slack (real slack_sdk)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fake_slack import FakeSlack

from adapters.slack.adapter import SlackAdapter, conversation_key
from adapters.slack.budget import SlackBudget
from adapters.slack.runner import make_client
from adapters.slack.text import MESSAGE_LIMIT
from bot.api.models import Question, QuestionType
from bot.core.adapter_state import ScopedState
from bot.core.keys import ConversationKey
from bot.core.ports import Action, Notice, NoticeKind, PendingQuestion, RespondentUnreachable
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
    yield SlackAdapter(
        make_client(fake_slack.bot_token, fake_slack.api_url),
        lambda scope: ScopedState(store, scope),
        budget=budget,
        update_interval=0.0,
    )
    await budget.close()


@pytest.fixture
def key(fake_slack: FakeSlack) -> ConversationKey:
    return conversation_key(fake_slack.team_id, fake_slack.dm_channel_of(USER), USER)


def replies(fake: FakeSlack, key: ConversationKey, thread: str) -> list[dict[str, Any]]:
    """The bot's replies in ``thread`` (the anchor and its consent note left out)."""
    return [m for m in fake.messages(key.channel, thread) if m["bot"] and m["ts"] != thread]


def question(qtype: QuestionType = QuestionType.YES_NO, n: int = 0) -> PendingQuestion:
    q = Question(id="q1", type=qtype, text="Would you recommend it?", options=tuple(f"Option {i}" for i in range(n)))
    return PendingQuestion("iv1", q, USER)


async def test_streamed_reply_shows_thinking_then_streams_exact_text(
    fake_slack: FakeSlack, adapter: SlackAdapter, key: ConversationKey
) -> None:
    reply = await adapter.begin_reply(key)
    thread = await adapter.thread_of(key)
    assert thread is not None
    assert fake_slack.thread_status(key.channel, thread)[0] == "is thinking…"
    await reply.status("queued: next in line")
    parts = ["Hello ", "there, ", "how ", "are you?"]
    for part in parts:
        await reply.append(part)
    await reply.finish("".join(parts), None)
    [message] = replies(fake_slack, key, thread)
    assert message["text"] == "Hello there, how are you?"
    assert message["streaming"] == "stopped"
    assert len(fake_slack.calls_of("chat.appendStream")) >= 2


async def test_expired_stream_falls_back_to_update_without_losing_text(
    fake_slack: FakeSlack, adapter: SlackAdapter, key: ConversationKey
) -> None:
    reply = await adapter.begin_reply(key)
    thread = await adapter.thread_of(key)
    await reply.append("First part. ")
    [message] = replies(fake_slack, key, str(thread))
    fake_slack.expire_stream(key.channel, message["ts"])
    await reply.append("Second part. ")  # message_not_in_streaming_state: continue with chat.update
    await reply.append("Third part.")
    await reply.finish("First part. Second part. Third part.", question())
    [message] = replies(fake_slack, key, str(thread))
    assert message["text"] == "First part. Second part. Third part."
    assert message["stream_expired"] and message["update_count"] >= 1
    shown = " ".join(b["text"] for b in message["blocks"] if b["type"] == "markdown")
    assert "First part. Second part. Third part." in shown  # text stays visible above the buttons
    assert any(e.get("action_id") == "ib:yes" for b in message["blocks"] for e in b.get("elements", []))


async def test_streaming_unavailable_uses_post_and_update(
    fake_slack: FakeSlack, adapter: SlackAdapter, key: ConversationKey
) -> None:
    fake_slack.force_error("chat.startStream", "unknown_method")
    reply = await adapter.begin_reply(key)
    thread = str(await adapter.thread_of(key))
    await reply.append("abc ")
    await reply.append("def ")
    await reply.finish("abc def ghi", None)
    [message] = replies(fake_slack, key, thread)
    assert message["text"] == "abc def ghi" and message["streaming"] is None
    assert adapter.streaming_available is False
    second = await adapter.begin_reply(key)
    await second.append("next ")
    await second.finish("next reply", None)
    assert [m["text"] for m in replies(fake_slack, key, thread)] == ["abc def ghi", "next reply"]


async def test_thread_status_unavailable_posts_a_placeholder(
    fake_slack: FakeSlack, adapter: SlackAdapter, key: ConversationKey
) -> None:
    fake_slack.force_error("assistant.threads.setStatus", "missing_scope")
    reply = await adapter.begin_reply(key)
    thread = str(await adapter.thread_of(key))
    assert [m["text"] for m in replies(fake_slack, key, thread)] == ["_…_"]
    await reply.append("Hi")
    await reply.finish("Hi!", None)
    assert [m["text"] for m in replies(fake_slack, key, thread)] == ["Hi!"]


async def test_long_reply_continues_in_new_messages(
    fake_slack: FakeSlack, adapter: SlackAdapter, key: ConversationKey
) -> None:
    text = "".join(f"Sentence number {i} is here. " for i in range(400))  # ~12k characters
    reply = await adapter.begin_reply(key)
    for i in range(0, len(text), 1000):
        await reply.append(text[i : i + 1000])
    await reply.finish(text, question(QuestionType.SINGLE_CHOICE, 3))
    thread = str(await adapter.thread_of(key))
    messages = replies(fake_slack, key, thread)
    assert len(messages) == -(-len(text) // MESSAGE_LIMIT)
    assert "".join(m["text"] for m in messages) == text
    assert all(len(m["text"]) <= MESSAGE_LIMIT for m in messages)
    assert messages[-1]["blocks"] and not any(m["blocks"] for m in messages[:-1])


async def test_refused_blocks_are_split_never_failing_the_turn(
    fake_slack: FakeSlack, adapter: SlackAdapter, key: ConversationKey
) -> None:
    reply = await adapter.begin_reply(key)
    fake_slack.force_error("chat.stopStream", "msg_blocks_too_long")
    fake_slack.force_error("chat.postMessage", "invalid_blocks")  # the question on its own: refused once
    await reply.append("Here is my question.")
    await reply.finish("Here is my question.", question(QuestionType.SCALE))
    thread = str(await adapter.thread_of(key))
    messages = replies(fake_slack, key, thread)
    assert messages[0]["text"] == "Here is my question." and messages[0]["streaming"] == "stopped"
    assert any(
        e.get("action_id") == "ib:scale:3"
        for m in messages[1:]
        for b in m["blocks"] or []
        for e in b.get("elements", [])
    )


async def test_failed_reply_keeps_text_and_offers_retry(
    fake_slack: FakeSlack, adapter: SlackAdapter, key: ConversationKey
) -> None:
    reply = await adapter.begin_reply(key)
    await reply.append("Partial ans")
    await reply.fail(
        "Partial answer", Notice(NoticeKind.ERROR, "The interviewer is unavailable.", (Action.RETRY, Action.END))
    )
    thread = str(await adapter.thread_of(key))
    first, notice = replies(fake_slack, key, thread)
    assert first["text"] == "Partial answer"
    actions = [e["action_id"] for b in notice["blocks"] for e in b.get("elements", []) if b["type"] == "actions"]
    assert actions == ["ib:act:retry", "ib:act:end"]


async def test_rate_limited_calls_are_retried(
    fake_slack: FakeSlack, adapter: SlackAdapter, key: ConversationKey
) -> None:
    fake_slack.force_429("chat.stopStream", 1, retry_after=1)
    reply = await adapter.begin_reply(key)
    await reply.append("one ")
    await reply.finish("one two", None)
    thread = str(await adapter.thread_of(key))
    [message] = replies(fake_slack, key, thread)
    assert message["text"] == "one two"
    assert [c.status for c in fake_slack.calls_of("chat.stopStream")] == [429, 200]


async def test_removed_app_makes_the_respondent_unreachable(
    fake_slack: FakeSlack, adapter: SlackAdapter, key: ConversationKey
) -> None:
    reply = await adapter.begin_reply(key)
    await reply.append("Bye")
    fake_slack.remove_app()
    await reply.append(" for now")  # mid-stream: nothing more is sent, nothing raised into the stream loop
    with pytest.raises(RespondentUnreachable):
        await reply.finish("Bye for now", None)
    with pytest.raises(RespondentUnreachable):
        await adapter.notify(key, Notice(NoticeKind.NUDGE, "Still there?"))


async def test_an_update_that_stays_rate_limited_is_carried_by_the_next_one(
    fake_slack: FakeSlack, adapter: SlackAdapter, key: ConversationKey
) -> None:
    reply = await adapter.begin_reply(key)
    await reply.append("one ")
    fake_slack.force_429("chat.appendStream", 4, retry_after=0)  # more than the client's 3 retries
    await reply.append("two ")  # given up: kept, not lost, not sent twice
    await reply.append("three ")
    await reply.finish("one two three four", None)
    thread = str(await adapter.thread_of(key))
    [message] = replies(fake_slack, key, thread)
    assert message["text"] == "one two three four"
    assert "".join(c["text"] for c in message["chunks"]) == "one two three four"


def question_messages(messages: list[dict[str, Any]], action_id: str = "ib:yes") -> list[dict[str, Any]]:
    return [
        m for m in messages for b in m["blocks"] or [] for e in b.get("elements", []) if e.get("action_id") == action_id
    ]


async def test_split_after_a_stream_never_shows_streamed_text_twice(
    fake_slack: FakeSlack, adapter: SlackAdapter, key: ConversationKey
) -> None:
    # a paragraph break early in the message, then streamed text up to the limit: the message cannot be cut at
    # the break any more (a stream cannot take text back), so the next message must start after the streamed text
    first = "word " * 400 + "\n\n"
    second = "more " * 370
    third = "tail " * 100
    reply = await adapter.begin_reply(key)
    await reply.append(first)
    await reply.append(second)
    await reply.append(third)
    await reply.finish(first + second + third, None)
    messages = replies(fake_slack, key, str(await adapter.thread_of(key)))
    assert len(messages) == 2
    assert "".join(m["text"] for m in messages) == first + second + third
    assert all(len(m["text"]) <= MESSAGE_LIMIT for m in messages)


async def test_question_is_shown_once_when_the_stream_ends_before_stop(
    fake_slack: FakeSlack, adapter: SlackAdapter, key: ConversationKey
) -> None:
    fake_slack.stream_ttl = 0.0  # the stream opened by stop() has expired when stopStream arrives
    reply = await adapter.begin_reply(key)
    await reply.finish("Short reply.", question())  # the whole reply at once: no append before it
    messages = replies(fake_slack, key, str(await adapter.thread_of(key)))
    assert [m["text"] for m in messages] == ["Short reply."]
    assert len(question_messages(messages)) == 1
    record = await adapter.question_record("iv1", "q1")
    assert record is not None and record["ts"] == messages[0]["ts"]
    assert reply.messages == [messages[0]["ts"]]


async def test_a_failed_fallback_update_mid_reply_never_breaks_the_reply(
    fake_slack: FakeSlack, adapter: SlackAdapter, key: ConversationKey
) -> None:
    reply = await adapter.begin_reply(key)
    thread = str(await adapter.thread_of(key))
    await reply.append("First part. ")
    [message] = replies(fake_slack, key, thread)
    fake_slack.expire_stream(key.channel, message["ts"])
    fake_slack.force_http_error("chat.update", status=500)  # the fallback's first chat.update fails too
    await reply.append("Second part. ")  # an intermediate update: the next one carries its text
    await reply.append("Third part.")
    await reply.finish("First part. Second part. Third part.", None)
    [message] = replies(fake_slack, key, thread)
    assert message["text"] == "First part. Second part. Third part."
    assert fake_slack.calls_of("chat.update")[0].status == 500
