"""One format on every path: a streamed reply and one sent with chat.postMessage / chat.update look the same.

The fake renders a message as a Slack client shows it (`fake_slack/render.py`): streamed text, `markdown_text`
and `markdown` blocks as standard Markdown; `text` and `mrkdwn` sections as mrkdwn.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_slack import FakeSlack

from adapters.slack.adapter import SlackAdapter, conversation_key
from adapters.slack.budget import SlackBudget
from adapters.slack.runner import make_client
from bot.api.models import Question, QuestionType
from bot.core.adapter_state import ScopedState
from bot.core.keys import ConversationKey
from bot.core.ports import PendingQuestion
from storage.sqlite import SQLiteStore

TEXT = "Here is **bold**, a [link](https://example.com/study) and a list:\n\n- first point\n- second point\n"


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


async def reply_with(adapter: SlackAdapter, key: ConversationKey, *, question: PendingQuestion | None = None) -> str:
    """Stream TEXT in three pieces as one reply; the ts of its (single) message."""
    reply = await adapter.begin_reply(key)
    for piece in (TEXT[:12], TEXT[12:40], TEXT[40:]):
        await reply.append(piece)
    await reply.finish(TEXT, question)
    assert len(reply.messages) == 1
    return reply.messages[0]


def user_key(fake: FakeSlack, user: str) -> ConversationKey:
    fake.add_user(user, user.lower())
    return conversation_key(fake.team_id, fake.dm_channel_of(user), user)


async def test_markdown_renders_alike_streamed_and_posted(fake_slack: FakeSlack, adapter: SlackAdapter) -> None:
    streamed_key = user_key(fake_slack, "U0STREAM1")
    streamed = await reply_with(adapter, streamed_key)
    assert fake_slack.messages(streamed_key.channel)[-1]["streaming"] == "stopped"

    fake_slack.force_error("chat.startStream", "unknown_method")  # streaming unavailable: post and update
    posted_key = user_key(fake_slack, "U0POST001")
    posted = await reply_with(adapter, posted_key)
    assert adapter.streaming_available is False

    question = PendingQuestion(
        "iv1", Question(id="q1", type=QuestionType.YES_NO, text="Would you recommend it?"), "U0QUEST01"
    )
    with_question_key = user_key(fake_slack, "U0QUEST01")
    with_question = await reply_with(adapter, with_question_key, question=question)

    shown = fake_slack.rendered(streamed_key.channel, streamed)
    assert "<strong>bold</strong>" in shown
    assert '<a href="https://example.com/study">link</a>' in shown
    assert "<li>first point</li>" in shown and "<li>second point</li>" in shown
    assert fake_slack.rendered(posted_key.channel, posted) == shown
    assert fake_slack.rendered(with_question_key.channel, with_question).startswith(shown)
