"""The adapter driven directly (no core): real discord.py against the fake Discord over loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest
from fake_discord import FakeDiscord, point_discord_py_at, running_client

from adapters.discord import ids
from adapters.discord.adapter import REPLY_SCOPE, UNREACHABLE_SCOPE, DiscordAdapter, dm_key
from adapters.discord.runner import intents
from adapters.discord.writes import WriteBudget
from bot.api.models import Question, QuestionType
from bot.core.adapter_state import ScopedState
from bot.core.keys import ConversationKey
from bot.core.ports import Action, Notice, NoticeKind, PendingQuestion, RespondentUnreachable
from storage.sqlite import SQLiteStore

USER = "1001"


class Rig:
    """A fake Discord, a running discord.py client and an adapter on a real SQLite store."""

    def __init__(self, fake: FakeDiscord, client: discord.Client, store: SQLiteStore, adapter: DiscordAdapter):
        self.fake, self.client, self.store, self.adapter = fake, client, store, adapter

    async def key_for(self, user_id: str) -> ConversationKey:
        channel = await self.client.http.start_private_message(int(user_id))
        return dm_key(channel["id"], user_id)

    def texts(self, key: ConversationKey) -> list[str]:
        return [m["content"] for m in self.fake.bot_messages(key.channel)]


def roomy() -> WriteBudget:
    """The fake's per-DM limit of these tests (50 writes/s), with a 0.05 s edit interval."""
    return WriteBudget(interval=0.05, dm_writes=50, dm_window=1.0)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with FakeDiscord(message_limit=(50, 1.0)) as fake:  # these tests are not about per-DM limits
        with point_discord_py_at(fake):
            for n in range(40):
                fake.add_user(str(1001 + n), f"member{n}")
            fake.add_guild("500", "Research Club", [str(1001 + n) for n in range(40)])
            client = discord.Client(intents=intents(), guild_ready_timeout=0.05)
            store = SQLiteStore(tmp_path / "bridge.db")
            await store.open()
            try:
                async with running_client(client, fake):
                    adapter = DiscordAdapter(client, budget=roomy(), state=lambda scope: ScopedState(store, scope))
                    yield Rig(fake, client, store, adapter)
            finally:
                await store.close()


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


async def test_reply_streams_into_a_placeholder_and_lands_exactly(rig: Rig) -> None:
    key = await rig.key_for(USER)
    stream = await rig.adapter.begin_reply(key)
    assert rig.texts(key) == ["…"]  # the placeholder is there at once
    assert rig.fake.typing_count(key.channel) >= 1
    words = [f"word{i} " for i in range(900)]  # ~6,300 characters: four messages
    for i in range(0, len(words), 60):
        await stream.append("".join(words[i : i + 60]))
        await asyncio.sleep(0.02)
    full = "".join(words).strip() + "\n\nWhat do you think?"
    await stream.finish(full, None)
    texts = rig.texts(key)
    assert "".join(texts) == full  # not a character lost, none doubled
    assert len(texts) == 4 and all(len(t) <= 2000 for t in texts)
    last = rig.fake.bot_messages(key.channel)[-1]
    assert custom_ids(last) == [ids.action_id(Action.END.value)]
    assert rig.fake.bot_messages(key.channel)[0]["edits"] >= 1
    assert await rig.store.get_state(REPLY_SCOPE, key.as_str()) is None
    rig.fake.assert_no_spec_errors()


async def test_final_text_lands_through_429s(rig: Rig) -> None:
    key = await rig.key_for(USER)
    stream = await rig.adapter.begin_reply(key)
    await stream.append("Hello")
    rig.fake.force_429("PATCH", r"/channels/\d+/messages/\d+", count=3, retry_after=0.05)
    rig.fake.force_429("POST", r"/channels/\d+/messages$", count=1, retry_after=0.05, global_=True)
    text = "Hello there. " + "x" * 2100
    await stream.finish(text, None)
    assert "".join(rig.texts(key)) == text
    assert len(rig.fake.bot_messages(key.channel)) == 2  # a retried POST made no duplicate
    assert any(r.status == 429 for r in rig.fake.requests)
    rig.fake.assert_no_spec_errors()


async def test_closed_dms_raise_unreachable_once_and_are_recorded(rig: Rig) -> None:
    key = await rig.key_for(USER)
    rig.fake.set_dms_open(USER, False)
    with pytest.raises(RespondentUnreachable):
        await rig.adapter.begin_reply(key)
    with pytest.raises(RespondentUnreachable):
        await rig.adapter.notify(key, Notice(NoticeKind.NUDGE, "Still there?"))
    posts = rig.fake.requests_to("POST", r"/channels/\d+/messages$")
    assert len(posts) == 2 and all(r.status == 403 for r in posts)  # one try each, no retry loop
    recorded = await rig.store.get_state(UNREACHABLE_SCOPE, USER)
    assert recorded is not None and recorded["code"] == 50007


async def test_failure_mid_reply_ends_with_a_note_and_buttons(rig: Rig) -> None:
    key = await rig.key_for(USER)
    stream = await rig.adapter.begin_reply(key)
    await stream.append("Tell me about your last ")
    await stream.fail(
        "Tell me about your last ", Notice(NoticeKind.ERROR, "The reply broke off.", (Action.RETRY, Action.END))
    )
    [message] = rig.fake.bot_messages(key.channel)
    assert message["content"].startswith("Tell me about your last")
    assert "The reply broke off." in message["content"]
    assert custom_ids(message) == [ids.action_id("retry"), ids.action_id("end")]


async def test_a_reply_interrupted_by_a_crash_reuses_its_messages(rig: Rig) -> None:
    key = await rig.key_for(USER)
    stream = await rig.adapter.begin_reply(key)
    await stream.append("a" * 2500)
    await asyncio.sleep(0.2)  # two messages are out, then the process "dies"
    assert len(rig.fake.bot_messages(key.channel)) == 2
    fresh = DiscordAdapter(rig.client, budget=roomy(), state=lambda scope: ScopedState(rig.store, scope))
    stream = await fresh.begin_reply(key)
    await stream.finish("Short answer.", None)
    assert rig.texts(key) == ["Short answer."]  # the stray half reply is replaced, not left behind


QUESTIONS = [
    Question(id="yn", type=QuestionType.YES_NO, text="Do you use it daily?"),
    Question(id="sc", type=QuestionType.SCALE, text="How likely?", scale_min=0, scale_max=10),
    Question(
        id="sg",
        type=QuestionType.SINGLE_CHOICE,
        text="Pick",
        options=tuple(f"o{i}" for i in range(30)),
        allow_other=True,
    ),
    Question(id="mc", type=QuestionType.MULTIPLE_CHOICE, text="All that apply", options=("a", "b", "c"), max_choices=2),
    Question(id="rk", type=QuestionType.RANKING, text="Order these", options=("x", "y", "z")),
    Question(id="oe", type=QuestionType.OPEN_ENDED, text="Why?"),
]


async def test_every_question_renders_valid_components(rig: Rig) -> None:
    key = await rig.key_for(USER)
    for question in QUESTIONS:
        await rig.adapter.show_question(key, PendingQuestion("iv1", question, USER))
    messages = rig.fake.bot_messages(key.channel)
    assert [m["content"] for m in messages] == [f"**{q.text}**" for q in QUESTIONS]
    assert messages[-1]["components"] in ([], None)
    for message in messages[:-1]:
        assert custom_ids(message)[-1] == ids.action_id("end")
    rig.fake.assert_no_spec_errors()


async def test_finish_with_a_question_puts_components_on_the_reply(rig: Rig) -> None:
    key = await rig.key_for(USER)
    question = QUESTIONS[0]
    stream = await rig.adapter.begin_reply(key)
    await stream.finish(f"Thanks! {question.text}", PendingQuestion("iv1", question, USER))
    [message] = rig.fake.bot_messages(key.channel)
    assert custom_ids(message)[:2] == [ids.question_id("a", "iv1", "yn", "y"), ids.question_id("a", "iv1", "yn", "n")]
    stream = await rig.adapter.begin_reply(key)  # the question text is not in the reply: its own message
    await stream.finish("Thanks!", PendingQuestion("iv1", QUESTIONS[1], USER))
    messages = rig.fake.bot_messages(key.channel)
    assert [m["content"] for m in messages[1:]] == ["Thanks!", "**How likely?**"]


async def test_many_concurrent_replies_share_the_budget_and_none_starves(rig: Rig) -> None:
    rig.fake.limiter.message_limit = (10, 1.0)  # fast test: a DM allows 10 writes/s here (5 per 5 s on Discord)
    budget = WriteBudget(interval=0.2, global_rate=40, dm_writes=10, dm_window=1.0)
    adapter = DiscordAdapter(
        rig.client, edit_interval=0.2, budget=budget, state=lambda scope: ScopedState(rig.store, scope)
    )
    # DMs opened beforehand (by the fake's world: opening 20 by REST would use this second's global budget)
    keys = [dm_key(rig.fake.world.open_dm(str(1001 + n))[0].id, str(1001 + n)) for n in range(20)]

    async def converse(key: ConversationKey, n: int) -> str:
        stream = await adapter.begin_reply(key)
        text = ""
        for i in range(20):
            piece = f"[{n}:{i}] "
            text += piece
            await stream.append(piece)
            await asyncio.sleep(0.1)
        await stream.finish(text, None)
        return text

    texts = await asyncio.gather(*(converse(key, n) for n, key in enumerate(keys)))
    for key, text in zip(keys, texts, strict=True):
        [message] = rig.fake.bot_messages(key.channel)
        assert message["content"] == text
        assert message["edits"] >= 2  # every conversation streamed, none waited for the others to finish
    assert not [r for r in rig.fake.requests if r.status == 429]  # the shared budget kept under Discord's limits
    rig.fake.assert_no_spec_errors()


async def test_final_text_lands_when_a_message_was_deleted_mid_reply(rig: Rig) -> None:
    key = await rig.key_for(USER)
    stream = await rig.adapter.begin_reply(key)
    await stream.append("b" * 2100)  # two messages
    await rig.fake.wait_for(lambda: len(rig.fake.bot_messages(key.channel)) == 2)
    first = rig.fake.bot_messages(key.channel)[0]["id"]
    await rig.fake.delete_message(first)  # a moderator, or another client, deleted it: edits get 10008
    text = "B" + "b" * 2099 + " and the end."  # the first message changes: its edit meets 404 / 10008
    await stream.finish(text, None)
    assert "".join(rig.texts(key)) == text  # re-posted in order, nothing lost or doubled
    assert any(r.status == 404 for r in rig.fake.requests_to("PATCH", r"/messages/\d+$"))
    assert await rig.store.get_state(REPLY_SCOPE, key.as_str()) is None


async def test_a_dropped_connection_mid_reply_does_not_lose_the_final_text(rig: Rig) -> None:
    key = await rig.key_for(USER)
    stream = await rig.adapter.begin_reply(key)
    rig.fake.drop_connection("PATCH", r"/channels/\d+/messages/\d+", count=2)  # a mid-stream edit, then the final
    await stream.append("Hello")
    await rig.fake.wait_for(lambda: any(r.status == 0 for r in rig.fake.requests))
    await stream.finish("Hello there.", None)
    assert rig.texts(key) == ["Hello there."]
    assert custom_ids(rig.fake.bot_messages(key.channel)[-1]) == [ids.action_id(Action.END.value)]


async def test_missing_access_is_unreachable_and_recorded(rig: Rig) -> None:
    key = await rig.key_for(USER)
    rig.fake.force_error("POST", r"/channels/\d+/messages$", 403, 50001, "Missing Access")
    with pytest.raises(RespondentUnreachable):
        await rig.adapter.notify(key, Notice(NoticeKind.NUDGE, "Still there?"))
    recorded = await rig.store.get_state(UNREACHABLE_SCOPE, USER)
    assert recorded is not None and recorded["code"] == 50001


async def test_a_deleted_message_the_final_text_does_not_change_is_posted_again(rig: Rig) -> None:
    key = await rig.key_for(USER)
    stream = await rig.adapter.begin_reply(key)
    await stream.append("b" * 2100)
    await rig.fake.wait_for(lambda: rig.texts(key) == ["b" * 2000, "b" * 100])
    first = rig.fake.bot_messages(key.channel)[0]["id"]
    await rig.fake.delete_message(first)
    rig.adapter.message_deleted(int(first))  # what the cog does on MESSAGE_DELETE
    text = "b" * 2100 + " and the end."
    await stream.finish(text, None)
    assert "".join(rig.texts(key)) == text


async def test_a_reply_ending_in_blank_lines_past_2000_leaves_no_stray_message(rig: Rig) -> None:
    key = await rig.key_for(USER)
    stream = await rig.adapter.begin_reply(key)
    text = "a" * 1999 + " \n\n"  # the cut leaves only blank lines for a second message
    await stream.finish(text, None)
    [message] = rig.fake.bot_messages(key.channel)  # no "…" message carrying the End button
    assert message["content"].strip() == "a" * 1999
    assert custom_ids(message) == [ids.action_id(Action.END.value)]
