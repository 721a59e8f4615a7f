"""A multiple-choice question with more options than one Slack select holds (100) loses none of them.

Slack's selects take up to 100 `option_groups` of 100 options each; the fake validates them as Slack documents.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fake_slack import FakeSlack

from adapters.slack.adapter import SlackAdapter, conversation_key
from adapters.slack.blocks import QuestionRef
from adapters.slack.budget import SlackBudget
from adapters.slack.clicks import Chosen, interpret_click
from adapters.slack.runner import make_client
from bot.api.models import Question, QuestionType
from bot.core.adapter_state import ScopedState
from bot.core.i18n import catalogue
from bot.core.ports import PendingQuestion
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


def multiple_choice(n: int) -> PendingQuestion:
    options = tuple(f"Tool {i}" for i in range(n))
    return PendingQuestion(
        "iv1", Question(id="q1", type=QuestionType.MULTIPLE_CHOICE, text="Which?", options=options), USER
    )


def select_values(message: dict[str, Any]) -> list[str]:
    values: list[str] = []
    for block in message["blocks"] or []:
        for element in block.get("elements", []):
            if element.get("type") == "multi_static_select":
                values += [o["value"] for o in element.get("options", [])]
                values += [o["value"] for g in element.get("option_groups", []) for o in g["options"]]
    return values


async def test_a_multiple_choice_question_with_150_options_offers_all_of_them(
    fake_slack: FakeSlack, adapter: SlackAdapter
) -> None:
    key = conversation_key(fake_slack.team_id, fake_slack.dm_channel_of(USER), USER)
    pending = multiple_choice(150)
    await adapter.show_question(key, pending)
    [message] = [m for m in fake_slack.bot_messages(key.channel) if select_values(m)]
    assert select_values(message) == [str(i) for i in range(150)]
    block = next(b for b in message["blocks"] if any(e.get("type") == "multi_static_select" for e in b["elements"]))
    ref = QuestionRef.parse(block["block_id"])
    assert ref is not None
    state = {"values": {block["block_id"]: {"ib:multi": {"selected_options": [{"value": "149"}]}}}}
    assert interpret_click(catalogue("en"), pending.question, ref, {"action_id": "ib:submit"}, state) == Chosen(
        ["Tool 149"]
    )


async def test_options_beyond_what_slack_can_show_are_announced_and_logged(
    fake_slack: FakeSlack, adapter: SlackAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    key = conversation_key(fake_slack.team_id, fake_slack.dm_channel_of(USER), USER)
    caplog.set_level(logging.WARNING, logger="adapters.slack")
    await adapter.show_question(key, multiple_choice(3000))  # more option text than one message may hold
    [message] = [m for m in fake_slack.bot_messages(key.channel) if select_values(m)]
    shown = select_values(message)
    assert 100 < len(shown) < 3000 and shown == [str(i) for i in range(len(shown))]
    notes = [e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert any(str(len(shown)) in n and "3000" in n.replace(",", "") and "type" in n for n in notes)
    assert any("3000" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
