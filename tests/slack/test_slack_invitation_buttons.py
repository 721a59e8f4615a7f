"""The invitation's buttons on the fake Slack, through the Bolt app: Start now starts the study's interview in
the DM (through the bridge, so the study's consent step comes first), Don't ask me again stores an opt-out,
``/interview opt-in`` takes it back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from fake_slack import FakeSlack
from slack_bolt.async_app import AsyncApp

from adapters.slack.adapter import SlackAdapter
from adapters.slack.budget import DEFAULT_LIMITS, SlackBudget
from adapters.slack.invitations import LATER, NEVER, START, SlackInvitations
from adapters.slack.listeners import register_listeners
from adapters.slack.runner import make_client
from bot.api.client import InterviewClient
from bot.core import InvitationDesk, ManualClock
from bot.core.bridge import Bridge
from bot.core.invitations import Campaign, InvitationState
from bot.core.policy import BridgeConfig
from bot.emulator import EmulatorConfig, run_emulator
from storage.sqlite import SQLiteStore

ALICE = "U0ALICE01"
BRIEF = """
title: Onboarding
questions:
  - id: role
    type: open_ended
    text: What is your role?
"""


@dataclass
class Harness:
    fake: FakeSlack
    store: SQLiteStore
    bridge: Bridge
    desk: InvitationDesk
    sender: SlackInvitations

    def dm(self) -> list[dict[str, Any]]:
        return list(self.fake.bot_messages(self.fake.dm_channel_of(ALICE)))


@pytest.fixture
async def harness(
    fake_slack: FakeSlack, serve_http: Callable[[web.Application], Awaitable[str]], tmp_path: Path
) -> AsyncIterator[Harness]:
    brief = tmp_path / "brief.yaml"
    brief.write_text(BRIEF, encoding="utf-8")
    async with run_emulator(EmulatorConfig(brief=brief, token_rate=3000.0, rate_limit=100_000)) as emulator:
        store = SQLiteStore(tmp_path / "bridge.db")
        await store.open()
        api = InterviewClient(emulator.base_url, emulator.api_key)
        clock = ManualClock(1_799_049_600.0)
        bridge = Bridge(api, store, BridgeConfig(inactivity_timeout=600.0, inactivity_nudge=0.0), clock=clock)
        client = make_client(fake_slack.bot_token, fake_slack.api_url)
        app = AsyncApp(client=client, signing_secret=fake_slack.signing_secret)
        budget = SlackBudget({method: 6000.0 for method in DEFAULT_LIMITS})
        desk = InvitationDesk(store, bridge.studies, clock)
        sender = SlackInvitations(desk)
        adapter = SlackAdapter(client, bridge.adapter_state, budget=budget, update_interval=0.05)
        register_listeners(app, bridge, adapter, invitations=sender)
        await bridge.start()
        fake_slack.set_events_url(await serve_http(app.web_app()) + "/slack/events")
        try:
            yield Harness(fake_slack, store, bridge, desk, sender)
        finally:
            await bridge.stop()
            await budget.close()
            await api.aclose()
            await store.close()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait until ``check()`` holds (polling the store, which tells no one when it changes)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        assert loop.time() < deadline, "the condition never held"
        await asyncio.sleep(0.02)


async def state_of(h: Harness) -> InvitationState | None:
    stored = await h.store.get_invitation(h.bridge.studies.default.id, "slack", h.fake.team_id, ALICE)
    return None if stored is None else stored.state


async def invite_alice(h: Harness) -> dict[str, Any]:
    campaign = Campaign("c1", h.bridge.studies.default.id, "slack", h.fake.team_id, created_at=1.0)
    await h.store.create_campaign(campaign)
    await h.store.add_invitees(campaign, [ALICE], now=1.0)
    report = await h.desk.sweep(h.sender, "slack")
    assert report.invited == 1
    (invitation,) = h.dm()
    return invitation


async def test_start_now_starts_the_interview_in_the_dm(harness: Harness) -> None:
    h = harness
    invitation = await invite_alice(h)
    channel = h.fake.dm_channel_of(ALICE)
    assert await h.fake.click(ALICE, channel, invitation["ts"], START) == 200
    await h.fake.wait_for(lambda: any("ib:act:agree" in str(m) for m in h.dm()), timeout=10.0)
    consent = next(m for m in h.dm() if "ib:act:agree" in str(m))  # the study's consent text comes first
    assert await h.fake.click(ALICE, channel, consent["ts"], "ib:act:agree") == 200

    async def started() -> bool:  # the invitation is answered, and the agreement opened the interview
        interviews = await h.store.interviews_of_user("slack", ALICE)
        return await state_of(h) is InvitationState.STARTED and bool(interviews)

    await eventually(started)
    interviews = await h.store.interviews_of_user("slack", ALICE)
    assert [i.study for i in interviews] == [h.bridge.studies.default.id]


async def test_dont_ask_me_again_opts_out_and_opt_in_takes_it_back(harness: Harness) -> None:
    h = harness
    invitation = await invite_alice(h)
    channel = h.fake.dm_channel_of(ALICE)
    assert await h.fake.click(ALICE, channel, invitation["ts"], NEVER) == 200
    team = h.fake.team_id

    async def opted() -> set[str]:
        return await h.store.opted_out("slack", team, [ALICE])

    async def opted_out() -> bool:
        return await opted() == {ALICE}

    await eventually(opted_out)
    stored = await h.store.get_invitation(h.bridge.studies.default.id, "slack", team, ALICE)
    assert stored is not None and stored.state is InvitationState.OPTED_OUT and stored.next_at is None
    answer = await h.fake.slash_command(ALICE, "/interview", "opt-in")
    assert answer["status"] == 200
    await h.fake.wait_for(lambda: any("may reach you again" in str(e) for e in h.fake.ephemerals(ALICE)))
    assert await opted() == set()


async def test_not_now_keeps_the_reminders(harness: Harness) -> None:
    h = harness
    invitation = await invite_alice(h)
    channel = h.fake.dm_channel_of(ALICE)
    assert await h.fake.click(ALICE, channel, invitation["ts"], LATER) == 200
    await h.fake.wait_for(lambda: any("remind you" in str(e) for e in h.fake.ephemerals(ALICE)))
    stored = await h.store.get_invitation(h.bridge.studies.default.id, "slack", h.fake.team_id, ALICE)
    assert stored is not None and stored.state is InvitationState.INVITED and stored.next_at is not None
