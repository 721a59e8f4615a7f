"""End to end: fake Slack ⇄ real slack-bolt AsyncApp (HTTP mode, signed requests) ⇄ Slack adapter ⇄ Bridge ⇄
InterviewClient ⇄ the built-in interview server. Also holds the harness the other e2e modules import."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from fake_slack import FakeSlack
from slack_bolt.async_app import AsyncApp

from adapters.slack.adapter import SlackAdapter, conversation_key
from adapters.slack.budget import DEFAULT_LIMITS, SlackBudget
from adapters.slack.invitations import SlackInvitations
from adapters.slack.listeners import register_listeners
from adapters.slack.runner import make_client
from bot.api.client import InterviewClient
from bot.core.bridge import Bridge
from bot.core.clock import ManualClock
from bot.core.keys import ConversationKey
from bot.core.policy import BridgeConfig
from bot.core.privacy_store import ConsentDecision
from bot.core.recruiting import InvitationDesk
from bot.core.store import RecordStatus
from bot.core.studies import StudyBook
from bot.emulator import Emulator, EmulatorConfig, run_emulator
from storage.sqlite import SQLiteStore

ALICE = "U0ALICE01"
BRIEF = """
study: {id: slack-test, title: Slack test study}
interviewer:
  greeting: "Hi {name}! Thanks for joining."
  closing: "That's everything, thank you {name}!"
  acknowledgements: ["Thanks."]
questions:
  - {id: start, type: open_ended, text: "What is your role?", max_follow_ups: 0}
  - {id: like, type: yes_no, text: "Do you like working here?", max_follow_ups: 0}
  - {id: ease, type: scale, text: "How easy is onboarding?", scale_min: 1, scale_max: 5,
     min_label: Hard, max_label: Easy, max_follow_ups: 0}
  - {id: team, type: single_choice, text: "Which team are you in?", options: [Sales, Support, Engineering],
     allow_other: true, max_follow_ups: 0}
  - {id: office, type: single_choice, text: "Which office?",
     options: [Berlin, Paris, London, Lisbon, Madrid, Rome, Vienna], max_follow_ups: 0}
  - {id: tools, type: multiple_choice, text: "Which tools do you use?", options: [Slack, Jira, Figma, Notion],
     max_choices: 3, max_follow_ups: 0}
  - {id: priorities, type: ranking, text: "Rank these.", options: [Pay, Growth, Balance], max_follow_ups: 0}
  - {id: last, type: open_ended, text: "Anything else?", max_follow_ups: 0}
"""


@dataclass
class Harness:
    """Everything of one end-to-end run, with helpers that act as the user and wait for the bot."""

    fake: FakeSlack
    emulator: Emulator
    store: SQLiteStore
    bridge: Bridge
    app: AsyncApp
    adapter: SlackAdapter
    clock: ManualClock
    invitations: SlackInvitations  # campaigns: the sender (swept by the test) and its desk

    def key(self, user: str = ALICE) -> ConversationKey:
        return conversation_key(self.fake.team_id, self.fake.dm_channel_of(user), user)

    def bot_replies(self, user: str = ALICE, thread: str | None = None) -> list[dict[str, Any]]:
        """The bot's messages in the user's DM (in ``thread``: its replies), without the consent notes."""
        channel = self.fake.dm_channel_of(user)
        return [m for m in self.fake.messages(channel, thread) if m["bot"] and m["ts"] != thread and not is_intro(m)]

    def intros(self, user: str = ALICE, thread: str | None = None) -> list[dict[str, Any]]:
        """The consent notes in the user's DM (in ``thread``: among its replies)."""
        channel = self.fake.dm_channel_of(user)
        return [m for m in self.fake.messages(channel, thread) if m["bot"] and m["ts"] != thread and is_intro(m)]

    def message(self, ts: str, user: str = ALICE) -> dict[str, Any]:
        """The current state of one message in the user's DM."""
        return next(m for m in self.fake.messages(self.fake.dm_channel_of(user)) if m["ts"] == ts)

    async def thread(self, user: str = ALICE) -> str:
        ts = await self.adapter.thread_of(self.key(user))
        assert ts is not None
        return ts

    async def wait_for_action(self, action_id: str, user: str = ALICE, within: float = 10.0) -> dict[str, Any]:
        """The latest bot message in the user's DM whose blocks hold ``action_id`` (waits for it)."""
        found: list[dict[str, Any]] = []

        def check() -> bool:
            for message in reversed(self.fake.bot_messages(self.fake.dm_channel_of(user))):
                if action_id in action_ids(message):
                    found.append(message)
                    return True
            return False

        await self.fake.wait_for(check, timeout=within)
        return found[0]

    async def idle(self, user: str = ALICE) -> None:
        await asyncio.wait_for(self.bridge.wait_until_idle(self.key(user)), 10.0)

    async def record_status(self, status: RecordStatus, user: str = ALICE, within: float = 10.0) -> None:
        """Wait until the user's latest interview has ``status``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            record = await self.store.latest_interview(self.key(user))
            if record is not None and record.status is status:
                return
            assert loop.time() < deadline, f"interview status stayed {record and record.status}"
            await asyncio.sleep(0.02)

    async def click(self, message: dict[str, Any], action_id: str, user: str = ALICE, **kwargs: Any) -> int:
        return await self.fake.click(user, message["channel"], message["ts"], action_id, **kwargs)


def is_intro(message: dict[str, Any]) -> bool:
    """True for the consent text shown before an interview starts (with I agree / No thanks, or their choice)."""
    return "Before we start" in block_text(message)


def action_ids(message: dict[str, Any]) -> list[str]:
    ids: list[str] = []
    for block in message.get("blocks") or []:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            ids.append(element.get("action_id", ""))
        if isinstance(block.get("accessory"), dict):
            ids.append(block["accessory"].get("action_id", ""))
    return ids


def block_text(message: dict[str, Any]) -> str:
    parts = [message.get("text") or ""]
    for block in message.get("blocks") or []:
        if block.get("type") == "section":
            parts.append(block["text"]["text"])
        if block.get("type") == "context":
            parts.extend(e.get("text", "") for e in block["elements"])
    return "\n".join(parts)


@asynccontextmanager
async def open_harness(
    fake: FakeSlack,
    serve_http: Callable[[web.Application], Awaitable[str]],
    tmp_path: Path,
    *,
    budget: SlackBudget | None = None,
    update_interval: float = 0.05,
    token_rate: float = 3000.0,
    studies: StudyBook | None = None,
) -> AsyncIterator[Harness]:
    """The whole chain on loopback: emulator, SQLite store, bridge, Bolt app served over HTTP for the fake."""
    brief = tmp_path / "brief.yaml"
    brief.write_text(BRIEF, encoding="utf-8")
    config = EmulatorConfig(brief=brief, token_rate=token_rate, analysis_delay=0.05)
    async with run_emulator(config) as emulator:
        store = SQLiteStore(tmp_path / "bridge.db")
        await store.open()
        api = InterviewClient(emulator.base_url, emulator.api_key)
        clock = ManualClock()
        config = BridgeConfig(inactivity_timeout=600.0, inactivity_nudge=0.0)
        bridge = Bridge(api, store, config, clock=clock, studies=studies)
        client = make_client(fake.bot_token, fake.api_url)
        app = AsyncApp(client=client, signing_secret=fake.signing_secret)
        # one interview stays far below Slack's tiers; a roomy budget keeps these tests quick (the budget's own
        # behaviour is tested in test_slack_budget.py and test_slack_concurrency.py)
        budget = budget or SlackBudget({method: 600.0 for method in DEFAULT_LIMITS})
        invitations = SlackInvitations(InvitationDesk(store, bridge.studies, clock))
        adapter = register_listeners(
            app,
            bridge,
            SlackAdapter(client, bridge.adapter_state, budget=budget, update_interval=update_interval),
            invitations=invitations,
        )
        await bridge.start()
        url = await serve_http(app.web_app())
        fake.set_events_url(url + "/slack/events")
        try:
            yield Harness(fake, emulator, store, bridge, app, adapter, clock, invitations)
            late = [d for d in fake.deliveries if d.timed_out]
            assert not late, f"{len(late)} deliveries were not acknowledged within Slack's 3 s"
        finally:
            await bridge.stop()
            await budget.close()
            await api.aclose()
            await store.close()


@pytest.fixture
async def harness(
    fake_slack: FakeSlack, serve_http: Callable[[web.Application], Awaitable[str]], tmp_path: Path
) -> AsyncIterator[Harness]:
    async with open_harness(fake_slack, serve_http, tmp_path) as h:
        yield h


async def agree(h: Harness, user: str = ALICE) -> None:
    """Click **I agree** under the consent text in the user's DM."""
    assert await h.click(await h.wait_for_action("ib:act:agree", user), "ib:act:agree", user) == 200


async def start_interview(h: Harness, text: str = "hi") -> str:
    """Alice DMs the app and agrees to the consent text; returns the thread the interview lives in (her message)."""
    sent = await h.fake.user_sends_dm(ALICE, text)
    assert sent["status"] == 200
    await agree(h)
    await h.fake.wait_for(lambda: any("Thanks for joining" in m["text"] for m in h.bot_replies(thread=sent["ts"])))
    assert await h.thread() == sent["ts"]
    return str(sent["ts"])


async def test_dm_flow_end_to_end_through_every_question_type(harness: Harness) -> None:
    h = harness
    thread = await start_interview(h)
    opening = h.bot_replies(thread=thread)[-1]
    assert "What is your role?" in opening["text"]
    assert h.fake.thread_status(h.fake.dm_channel_of(ALICE), thread)[0] == "is thinking…"

    await h.fake.user_sends_dm(ALICE, "I am a designer", thread_ts=thread)
    yes_no = await h.wait_for_action("ib:yes")
    assert yes_no["thread_ts"] == thread and yes_no["streaming"] == "stopped"  # rode on the streamed reply
    assert await h.click(yes_no, "ib:yes") == 200

    scale = await h.wait_for_action("ib:scale:4")
    await h.fake.wait_for(lambda: "You chose *Yes*" in block_text(h.message(yes_no["ts"])))
    await h.click(scale, "ib:scale:4")

    team = await h.wait_for_action("ib:other")
    await h.click(team, "ib:other")  # "other" opens a modal
    await h.fake.wait_for(lambda: h.fake.open_modals(ALICE))
    modal = h.fake.open_modals(ALICE)[-1]
    result = await h.fake.submit_view(ALICE, modal["id"], {"other": {"text": "Research"}})
    assert result["status"] == 200

    office = await h.wait_for_action("ib:radio")
    await h.click(office, "ib:radio", selected=["3"])

    tools = await h.wait_for_action("ib:multi")
    await h.click(tools, "ib:multi", selected=["0", "2"])
    await h.click(tools, "ib:submit")

    ranking = await h.wait_for_action("ib:rank:2")
    await h.click(ranking, "ib:rank:2")
    await h.fake.wait_for(
        lambda: (
            "ib:rank_submit" not in action_ids(ranking)
            and any(
                "ib:rank:1" in action_ids(m) and "ib:rank:2" not in action_ids(m)
                for m in h.fake.bot_messages(ranking["channel"])
            )
        )
    )
    step = await h.wait_for_action("ib:rank:1")
    await h.click(step, "ib:rank:1")
    final = await h.wait_for_action("ib:rank_submit")
    await h.click(final, "ib:rank_submit")

    await h.fake.wait_for(lambda: any("Anything else?" in m["text"] for m in h.bot_replies(thread=thread)))
    await h.fake.user_sends_dm(ALICE, "No, that's all", thread_ts=thread)
    await h.fake.wait_for(
        lambda: any("That's everything" in block_text(m) for m in h.bot_replies(thread=thread)), timeout=10
    )

    await h.record_status(RecordStatus.COMPLETED)
    record = await h.store.latest_interview(h.key())
    assert record is not None and record.completion_reason == "natural"
    answers = [line.content for line in await h.store.transcript(record.interview_id) if line.role == "respondent"]
    assert answers[0] == "I am a designer"
    joined = "\n".join(answers)
    for expected in ("Yes", "4", "Research", "Lisbon", "Slack", "Figma", "Balance", "Growth", "Pay"):
        assert expected in joined
    # every question's buttons were replaced by what was chosen
    texts = "\n".join(block_text(m) for m in h.bot_replies(thread=thread))
    assert "You chose *Yes*" in texts and "You chose *Research*" in texts and "You ranked:" in texts


async def test_consent_text_comes_first_and_nothing_is_sent_before_i_agree(harness: Harness) -> None:
    h = harness
    sent = await h.fake.user_sends_dm(ALICE, "hi")
    consent = await h.wait_for_action("ib:act:agree")
    assert consent["thread_ts"] == sent["ts"], "in the thread the interview will live in"
    assert "I agree" in str(consent["blocks"]) and "No thanks" in str(consent["blocks"])
    text = block_text(consent)
    for fact in ("What is collected", "Who sees it", "not anonymous", "180 days", "/interview forget-me"):
        assert fact in text, fact
    assert not h.emulator.requests, "nothing reached the interview API before I agree"
    await h.click(consent, "ib:act:agree")
    await h.fake.wait_for(lambda: any("Thanks for joining" in m["text"] for m in h.bot_replies(thread=sent["ts"])))
    assert h.emulator.requests[0].path.endswith("/interviews/start"), "the start call came on agreement"
    assert float(consent["ts"]) < float(h.bot_replies(thread=sent["ts"])[0]["ts"])
    await h.fake.wait_for(lambda: not action_ids(h.message(consent["ts"])))  # the buttons give way to the choice
    assert "I agree" in block_text(h.message(consent["ts"]))
    # an interview started by the command asks again, before anything is sent
    await h.fake.user_sends_dm(ALICE, "stop", thread_ts=sent["ts"])
    await h.click(await h.wait_for_action("ib:act:confirm_exit"), "ib:act:confirm_exit")
    await h.record_status(RecordStatus.COMPLETED)
    count = len(h.emulator.requests)
    await h.fake.slash_command(ALICE, "/interview", "start")
    await agree(h)
    await h.record_status(RecordStatus.ACTIVE)
    assert h.emulator.requests[count].path.endswith("/interviews/start"), "nothing before the start call on agreement"


async def test_no_thanks_starts_nothing_and_is_not_asked_again(harness: Harness) -> None:
    h = harness
    await h.fake.user_sends_dm(ALICE, "hi")
    consent = await h.wait_for_action("ib:act:decline")
    assert await h.click(consent, "ib:act:decline") == 200
    channel = consent["channel"]
    await h.fake.wait_for(lambda: any("won't be asked" in block_text(m) for m in h.fake.bot_messages(channel)))
    await h.fake.user_sends_dm(ALICE, "hello again")
    await h.fake.wait_for(lambda: any("chose not to take part" in block_text(m) for m in h.fake.bot_messages(channel)))
    assert not h.emulator.requests, "No thanks starts nothing at the interview API"
    assert await h.store.latest_interview(h.key()) is None
    counts = await h.store.consent_counts("default")
    assert counts.get(ConsentDecision.DECLINED) == 1
