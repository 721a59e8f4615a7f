"""End to end: fake Discord ⇄ real discord.py ⇄ the adapter ⇄ Bridge ⇄ InterviewClient ⇄ built-in server.

A member DMs the bot and answers every question type through real component interactions; the interview
survives a bot restart with a question pending; slash commands and the moderator's Start button open DMs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord import ids
from bot.adapters.discord.adapter import dm_key
from bot.adapters.discord.runner import InterviewBot
from bot.api.client import InterviewClient
from bot.config import Settings
from bot.core.bridge import Bridge
from bot.core.clock import ManualClock
from bot.core.keys import ConversationKey
from bot.core.policy import BridgeConfig
from bot.emulator import Emulator, EmulatorConfig, run_emulator
from storage.base import RecordStatus
from storage.sqlite import SQLiteStore
from tests.discord.fake_discord import FakeDiscord, Interaction, point_discord_py_at, running_client

ADA, BOB, MOD = "1001", "1002", "1003"
GUILD = "500"

BRIEF = """
study: {id: discord-e2e, title: Discord end to end}
interviewer:
  greeting: "Hi {name}! GREETING"
  closing: "That's all — thank you, {name}!"
  acknowledgements: [Thanks.]
questions:
  - {id: why, type: open_ended, text: "What brought you to the server?", max_follow_ups: 0}
  - {id: yn, type: yes_no, text: "Do you visit daily?", max_follow_ups: 0}
  - {id: nps, type: scale, text: "How likely are you to recommend us?", scale_min: 0, scale_max: 10,
     max_follow_ups: 0}
  - {id: src, type: single_choice, text: "Where did you hear of us?", options: [A friend, Reddit, YouTube],
     allow_other: true, max_follow_ups: 0}
  - {id: pick, type: single_choice, text: "Pick your favourite channel.", max_follow_ups: 0,
     options: [c00, c01, c02, c03, c04, c05, c06, c07, c08, c09, c10, c11, c12, c13, c14, c15, c16, c17, c18,
               c19, c20, c21, c22, c23, c24, c25, c26, c27, c28, c29]}
  - {id: many, type: multiple_choice, text: "Which do you use?", options: [Voice, Forums, Events, Threads],
     min_choices: 1, max_choices: 2, max_follow_ups: 0}
  - {id: rank, type: ranking, text: "Rank these for us.", options: [Speed, Price, Fun], max_follow_ups: 0}
  - {id: last, type: open_ended, text: "Anything else?", max_follow_ups: 0}
"""

CONFIG = BridgeConfig(inactivity_timeout=600.0, inactivity_nudge=120.0, sweep_interval=3600.0)


class Stack:
    """Everything of one test: the world, the bot and the core, with a restart in between if wanted."""

    def __init__(self, fake: FakeDiscord, api: InterviewClient, db_path: Path, clock: ManualClock) -> None:
        self.fake, self.api, self.db_path, self.clock = fake, api, db_path, clock
        self.store = SQLiteStore(db_path)
        self.settings = Settings(_env_file=None, discord_edit_interval=0.05)  # type: ignore[call-arg]
        self.bridge: Bridge | None = None
        self.bot: InterviewBot | None = None
        self.emulator: Emulator | None = None
        self._running: contextlib.AsyncExitStack | None = None

    async def boot(self) -> None:
        """Open the store, start a bridge and a bot (syncing its commands), as ``interview-bridge run`` does."""
        self.store = SQLiteStore(self.db_path)
        await self.store.open()
        self.bridge = Bridge(self.api, self.store, CONFIG, clock=self.clock)
        await self.bridge.start()
        self.bot = InterviewBot(self.bridge, self.settings, sync_commands=True, guild_ready_timeout=0.05)
        self._running = contextlib.AsyncExitStack()
        await self._running.enter_async_context(running_client(self.bot, self.fake))

    async def shut_down(self) -> None:
        """Stop the bot and the bridge (what a restart or a crash leaves is in the store)."""
        if self._running is not None:
            await self._running.aclose()
            self._running = None
        if self.bridge is not None:
            await self.bridge.stop()
            self.bridge = None
            await self.store.close()

    @property
    def core(self) -> Bridge:
        assert self.bridge is not None
        return self.bridge

    def key(self, user: str) -> ConversationKey:
        channel = self.fake.dm_channel_of(user)
        assert channel is not None
        return dm_key(channel, user)

    def dm(self, user: str) -> list[dict[str, Any]]:
        """The bot's messages in the member's DM."""
        channel = self.fake.dm_channel_of(user)
        return self.fake.bot_messages(channel) if channel else []

    async def question(self, user: str, question_id: str) -> dict[str, Any]:
        """Wait for the message carrying this question's components (it comes once the reply is complete)."""

        def find() -> dict[str, Any] | None:
            for message in reversed(self.dm(user)):
                if any(f"|{question_id}:" in c or c.endswith(f"|{question_id}") for c in custom_ids(message)):
                    return message
            return None

        await self.fake.wait_for(lambda: find() is not None, timeout=10.0)
        found = find()
        assert found is not None
        return found

    async def reply_done(self, user: str) -> None:
        """Wait until the DM's last message is a finished reply (it carries "End interview")."""
        end = ids.action_id("end")
        await self.fake.wait_for(lambda: bool(self.dm(user)) and end in custom_ids(self.dm(user)[-1]), timeout=20.0)

    async def said(self, user: str, fragment: str) -> None:
        """Wait until a finished bot message in the DM contains ``fragment``."""
        await self.fake.wait_for(lambda: any(fragment in m["content"] for m in self.dm(user)), timeout=10.0)

    async def click(self, user: str, message: dict[str, Any], custom_id: str, **kw: Any) -> Interaction:
        interaction = await self.fake.click(user, message["id"], custom_id, **kw)
        await interaction.wait_responded(5.0)
        return interaction


def custom_ids(message: dict[str, Any] | None) -> list[str]:
    """Every custom id on a message."""
    if not message:
        return []
    return [c["custom_id"] for row in message.get("components") or [] for c in row.get("components", [])]


def labels(message: dict[str, Any] | None) -> list[str]:
    """Every button label on a message."""
    if not message:
        return []
    return [c.get("label", "") for row in message.get("components") or [] for c in row.get("components", [])]


def first_id(message: dict[str, Any], prefix: str, suffix: str = "") -> str:
    """The custom id on ``message`` that starts with ``prefix`` (and ends with ``suffix``)."""
    return next(c for c in custom_ids(message) if c.startswith(prefix) and c.endswith(suffix))


@contextlib.asynccontextmanager
async def discord_stack(
    tmp_path: Path,
    *,
    brief_text: str = BRIEF,
    token_rate: float = 4000.0,
    edit_interval: float = 0.05,
    **fake_options: Any,
) -> AsyncIterator[Stack]:
    """The built-in server with :data:`BRIEF`, a SQLite store, the fake Discord and a booted bot.

    Unless told otherwise, a DM allows 20 writes per second (Discord: about 5 per 5 s) so tests run fast with
    a 0.05 s edit interval; the rate-limit tests use Discord's own figures.
    """
    fake_options.setdefault("message_limit", (20, 1.0))
    brief = tmp_path / "brief.yaml"
    brief.write_text(brief_text, encoding="utf-8")
    async with (
        run_emulator(EmulatorConfig(brief=brief, token_rate=token_rate, analysis_delay=0.05)) as emulator,
        InterviewClient(emulator.base_url, emulator.api_key) as api,
        FakeDiscord(**fake_options) as fake,
    ):
        with point_discord_py_at(fake):
            fake.add_user(ADA, "ada", locale="en-GB")
            fake.add_user(BOB, "bob", dms_open=False)
            fake.add_user(MOD, "mod")
            fake.add_guild(GUILD, "Pixel Forge", [ADA, BOB, MOD])
            stack = Stack(fake, api, tmp_path / "bridge.db", ManualClock())
            stack.emulator = emulator
            stack.settings = Settings(_env_file=None, discord_edit_interval=edit_interval)  # type: ignore[call-arg]
            try:
                await stack.boot()
                yield stack
            finally:
                await stack.shut_down()


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with discord_stack(tmp_path) as built:
        yield built


async def answered(stack: Stack, interaction: Interaction, shown: str) -> None:
    """The click was taken: its message now shows the chosen value instead of the components."""
    assert interaction.response_type == 7, interaction.response
    message = interaction.original_message()
    assert labels(message) == [f"✓ {shown}"]


async def test_dm_interview_with_every_question_type(stack: Stack) -> None:
    await stack.fake.user_sends_dm(ADA, "hi")
    await stack.said(ADA, "What brought you to the server?")
    await stack.fake.wait_for(lambda: ids.action_id("end") in custom_ids(stack.dm(ADA)[-1]))
    assert "Hi ada! GREETING" in stack.dm(ADA)[0]["content"]
    await stack.fake.user_sends_dm(ADA, "My friends are here")

    yes_no = await stack.question(ADA, "yn")
    yes = first_id(yes_no, "ib:a:", ":y")
    await answered(stack, await stack.click(ADA, yes_no, yes), "Yes")
    again = await stack.click(ADA, yes_no, yes, force=True)  # a double click: counted once, explained
    assert again.ephemeral and again.response_type == 4

    scale = await stack.question(ADA, "nps")
    assert [len(row["components"]) for row in scale["components"]] == [5, 5, 1, 1]
    await answered(stack, await stack.click(ADA, scale, first_id(scale, "ib:a:", ":7")), "7 / 10")

    choice = await stack.question(ADA, "src")
    opened = await stack.click(ADA, choice, first_id(choice, "ib:o:"))
    assert opened.modal is not None
    submitted = await stack.fake.submit_modal(ADA, opened, opened.modal["custom_id"], {"other": "A podcast"})
    await submitted.wait_responded(5.0)
    await answered(stack, submitted, "Other: A podcast")

    long_choice = await stack.question(ADA, "pick")
    page_two = first_id(long_choice, "ib:s:", ":1")
    await answered(stack, await stack.click(ADA, long_choice, page_two, values=["27"]), "c27")

    multi = await stack.question(ADA, "many")
    picked = await stack.click(ADA, multi, first_id(multi, "ib:m:"), values=["0", "2"])
    assert picked.response_type == 7
    multi = picked.original_message() or {}
    submit = first_id(multi, "ib:ms:")
    await answered(stack, await stack.click(ADA, multi, submit), "Voice, Events")

    ranking = await stack.question(ADA, "rank")
    tapped = await stack.click(ADA, ranking, first_id(ranking, "ib:r:", ":2"))  # Fun first
    ranking = tapped.original_message() or {}
    assert labels(ranking)[:3] == ["1. Fun", "Speed", "Price"]
    tapped = await stack.click(ADA, ranking, first_id(ranking, "ib:r:", ":0"))  # then Speed; Price goes last
    ranking = tapped.original_message() or {}
    assert labels(ranking)[:3] == ["1. Fun", "2. Speed", "3. Price"]
    submitted = await stack.click(ADA, ranking, first_id(ranking, "ib:rs:"))
    assert submitted.response_type == 7 and "Fun" in labels(submitted.original_message())[0]

    await stack.said(ADA, "Anything else?")
    await stack.fake.user_sends_dm(ADA, "No, that's all")
    await stack.said(ADA, "That's all — thank you, ada!")
    key = stack.key(ADA)
    await stack.core.wait_until_idle(key)
    record = await stack.core.status(key)
    assert record is not None and record.status is RecordStatus.COMPLETED
    assert record.completion_reason == "natural"
    assert record.locale is None  # a DM carries no locale; the interaction-started flows pass it
    details = await stack.api.get(record.interview_id)
    said = [e.content for e in details.transcript if e.role == "respondent"]
    assert said == [
        "My friends are here",
        "Yes",
        "7 / 10",
        "Other: A podcast",
        "c27",
        "Voice, Events",
        "Ranked: 1. Fun, 2. Speed, 3. Price",
        "No, that's all",
    ]
    stack.fake.assert_no_spec_errors()


async def test_clicks_work_after_a_restart_and_stale_clicks_change_nothing(stack: Stack) -> None:
    await stack.fake.user_sends_dm(ADA, "hello")
    await stack.said(ADA, "What brought you")
    await stack.fake.user_sends_dm(ADA, "Curiosity")
    yes_no = await stack.question(ADA, "yn")

    await stack.shut_down()  # the bot restarts with the question pending
    await stack.boot()

    no = first_id(yes_no, "ib:a:", ":n")
    await answered(stack, await stack.click(ADA, yes_no, no), "No")
    scale = await stack.question(ADA, "nps")
    stale = await stack.click(ADA, yes_no, first_id(yes_no, "ib:a:", ":y"), force=True)
    assert stale.ephemeral and "nothing changed" in stale.all_texts()[0].lower()
    assert labels(stack.fake.world.find_message(yes_no["id"])) == ["✓ No"]  # the answered message is untouched
    theirs = await stack.click(MOD, scale, first_id(scale, "ib:a:", ":3"), force=True)  # someone else's click
    assert theirs.ephemeral
    assert custom_ids(stack.fake.world.find_message(scale["id"])) == custom_ids(scale)
    stack.fake.assert_no_spec_errors()


async def test_slash_commands_open_the_dm_with_the_interaction_locale(stack: Stack) -> None:
    started = await stack.fake.slash_command(
        ADA, "interview", [{"type": 1, "name": "start", "options": []}], guild_id=GUILD, locale="de"
    )
    await stack.said(ADA, "What brought you")
    await stack.fake.wait_for(lambda: bool(started.followups), timeout=10.0)
    assert started.ephemeral and "DMs" in started.all_texts()[-1]
    record = await stack.core.status(stack.key(ADA))
    assert record is not None and record.locale == "de"
    details = await stack.api.get(record.interview_id)
    assert details.metadata["guild_name"] == "Pixel Forge" and details.metadata["discord_user"] == "ada"

    status = await stack.fake.slash_command(
        ADA, "interview", [{"type": 1, "name": "status", "options": []}], guild_id=GUILD
    )
    await stack.fake.wait_for(lambda: bool(status.followups))
    assert "in progress" in status.all_texts()[-1]
    stop = await stack.fake.slash_command(ADA, "interview", [{"type": 1, "name": "stop", "options": []}])
    await stack.fake.wait_for(lambda: bool(stop.followups), timeout=10.0)
    assert "ended" in stop.all_texts()[-1]
    record = await stack.core.status(stack.key(ADA))
    assert record is not None and record.status is RecordStatus.COMPLETED
    assert record.completion_reason == "respondent_left"
    stack.fake.assert_no_spec_errors()


async def test_closed_dms_get_a_how_to_and_nothing_half_started(stack: Stack) -> None:
    started = await stack.fake.slash_command(
        BOB, "interview", [{"type": 1, "name": "start", "options": []}], guild_id=GUILD
    )
    await stack.fake.wait_for(lambda: bool(started.followups), timeout=10.0)
    assert started.ephemeral and "Privacy Settings" in started.all_texts()[-1]
    assert await stack.store.interviews_of_user("discord", BOB) == []
    assert len(stack.fake.requests_to("POST", r"/channels/\d+/messages$")) == 1  # tried once, no retry loop


async def test_moderator_start_button_opens_a_dm(stack: Stack) -> None:
    posted = await stack.fake.slash_command(MOD, "interview-button", [], guild_id=GUILD)
    await posted.wait_responded(5.0)
    button_message = posted.original_message()
    assert button_message is not None and not posted.ephemeral
    start = first_id(button_message, "ib:go:")
    clicked = await stack.click(ADA, button_message, start)
    await stack.said(ADA, "What brought you")
    await stack.fake.wait_for(lambda: bool(clicked.followups))
    assert clicked.ephemeral
    assert custom_ids(stack.fake.world.find_message(button_message["id"])) == [start]  # stays for the next member


async def test_end_button_confirm_cancel_and_a_new_interview(stack: Stack) -> None:
    await stack.fake.user_sends_dm(ADA, "hi")
    await stack.reply_done(ADA)
    reply = stack.dm(ADA)[-1]
    asked = await stack.click(ADA, reply, ids.action_id("end"))
    assert asked.response_type in (6, 7) and not asked.ephemeral
    await stack.fake.wait_for(lambda: ids.action_id("confirm_exit") in custom_ids(stack.dm(ADA)[-1]))
    confirm = stack.dm(ADA)[-1]
    cancelled = await stack.click(ADA, confirm, ids.action_id("cancel_exit"))
    assert cancelled.response_type == 7 and custom_ids(cancelled.original_message()) == []  # one-shot buttons go
    record = await stack.core.status(stack.key(ADA))
    assert record is not None and record.status is RecordStatus.ACTIVE

    await stack.click(ADA, reply, ids.action_id("end"))  # the End button still works on the reply
    await stack.fake.wait_for(lambda: ids.action_id("confirm_exit") in custom_ids(stack.dm(ADA)[-1]))
    confirm = stack.dm(ADA)[-1]
    assert stack.emulator is not None
    stack.emulator.faults.latency = 2.5  # completing takes longer than Discord's 3 s: the click is deferred
    confirmed = await stack.click(ADA, confirm, ids.action_id("confirm_exit"))
    assert confirmed.response_type == 6
    await stack.fake.wait_for(lambda: custom_ids(stack.fake.world.find_message(confirm["id"])) == [], 10.0)
    stack.emulator.faults.latency = 0.0
    twice = await stack.click(ADA, confirm, ids.action_id("confirm_exit"), force=True)  # a double click
    assert twice.ephemeral
    record = await stack.core.status(stack.key(ADA))
    assert record is not None and record.completion_reason == "respondent_left"

    await stack.fake.user_sends_dm(ADA, "hello again")  # after the end: offered a new interview
    await stack.fake.wait_for(lambda: ids.action_id("new_interview") in custom_ids(stack.dm(ADA)[-1]))
    offer = stack.dm(ADA)[-1]
    count = len(stack.dm(ADA))
    await stack.click(ADA, offer, ids.action_id("new_interview"))
    await stack.fake.wait_for(lambda: any("GREETING" in m["content"] for m in stack.dm(ADA)[count:]), 10.0)
    fresh = await stack.core.status(stack.key(ADA))
    assert fresh is not None and fresh.status is RecordStatus.ACTIVE and fresh.interview_id != record.interview_id
    stack.fake.assert_no_spec_errors()


async def test_reply_that_breaks_offers_retry(stack: Stack) -> None:
    assert stack.emulator is not None
    await stack.fake.user_sends_dm(ADA, "hi")
    await stack.reply_done(ADA)
    stack.emulator.faults.error_event_after_chars = 4
    await stack.fake.user_sends_dm(ADA, "My friends are here")
    await stack.fake.wait_for(lambda: ids.action_id("retry") in custom_ids(stack.dm(ADA)[-1]), 10.0)
    broken = stack.dm(ADA)[-1]
    assert "⚠️" in broken["content"]
    stack.emulator.faults.error_event_after_chars = None
    retried = await stack.click(ADA, broken, ids.action_id("retry"))
    assert retried.response_type == 7 and custom_ids(retried.original_message()) == []
    await stack.question(ADA, "yn")
    stack.fake.assert_no_spec_errors()
