"""The thread status (assistant.threads.setStatus) and the assistant/agent thread the app opens in.

Slack limits setStatus per DM, not per workspace; it accepts `chat:write` (assistant:write is being phased out,
changelog 2026-03-05) and rotates up to 10 `loading_messages`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import test_slack_e2e as e2e
from fake_slack import FakeSlack
from test_slack_e2e import ALICE, Harness

from adapters.slack.adapter import SlackAdapter, conversation_key
from adapters.slack.budget import SlackBudget
from adapters.slack.runner import make_client
from bot.core.adapter_state import ScopedState
from bot.core.studies import Study, StudyBook
from storage.sqlite import SQLiteStore

harness = e2e.harness


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    db = SQLiteStore(tmp_path / "slack.db")
    await db.open()
    yield db
    await db.close()


@pytest.fixture
async def adapter(fake_slack: FakeSlack, store: SQLiteStore) -> AsyncIterator[SlackAdapter]:
    budget = SlackBudget()  # Slack's own limits
    client = make_client(fake_slack.bot_token, fake_slack.api_url)
    yield SlackAdapter(client, lambda scope: ScopedState(store, scope), budget=budget, update_interval=0.0)
    await budget.close()


async def test_every_dm_gets_its_thinking_status_when_many_start_at_once(
    fake_slack: FakeSlack, adapter: SlackAdapter
) -> None:
    keys = []
    for n in range(12):
        user = f"U0PEOPLE{n:02d}"
        fake_slack.add_user(user, f"person {n}")
        keys.append(conversation_key(fake_slack.team_id, fake_slack.dm_channel_of(user), user))
    for key in keys:  # threads first, so only the statuses race
        await adapter.target(key)
    replies = await asyncio.gather(*(adapter.begin_reply(key) for key in keys))
    assert all(not reply.messages for reply in replies), "a placeholder was posted instead of the status"
    for key in keys:
        thread = str(await adapter.thread_of(key))
        assert fake_slack.thread_status(key.channel, thread) == ["is thinking…"]
        [loading] = fake_slack.loading_messages(key.channel, thread)
        assert 2 <= len(loading) <= 10 and all(loading)


async def test_the_status_works_with_chat_write_alone(fake_slack: FakeSlack, adapter: SlackAdapter) -> None:
    fake_slack.granted_scopes = {"chat:write", "im:history", "im:write", "users:read", "commands"}
    key = conversation_key(fake_slack.team_id, fake_slack.dm_channel_of(ALICE), ALICE)
    reply = await adapter.begin_reply(key)
    assert not reply.messages and adapter.status_available
    await reply.finish("Hello.", None)
    assert not [c for c in fake_slack.calls if c.response.get("error") == "missing_scope"]


async def test_a_new_assistant_thread_gets_prompts_and_the_study_as_title(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    monkeypatch.setattr(h.bridge._ctx, "studies", StudyBook((Study("onboarding", "Onboarding study"),)))
    started = await h.fake.start_assistant_thread(ALICE)
    assert started["status"] == 200
    where = (started["channel"], started["thread_ts"])
    await h.fake.wait_for(lambda: {"title", "prompts"} <= set(h.fake.assistant_threads.get(where, {})))
    thread = h.fake.assistant_threads[where]
    assert thread["title"] == "Onboarding study"
    assert [p["title"] for p in thread["prompts"]] == ["Start the interview", "How does this work?"]
    assert all(p["message"] for p in thread["prompts"])
