"""Reminders exactly once on the fake Slack, with faults at the platform: a reminder whose answer is lost after Slack
posted it (the connection drops) is found in the DM and never posted again; one Slack refused (HTTP 503) is sent
after the lease. Nothing is skipped, nothing doubled, and the cap holds."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_slack import FakeSlack

from adapters.slack.adapter import SlackAdapter
from adapters.slack.budget import DEFAULT_LIMITS, SlackBudget
from adapters.slack.invitations import SlackInvitations
from adapters.slack.runner import make_client
from bot.campaigns import campaign_status
from bot.config import Settings
from bot.core import InvitationDesk, ManualClock, MemoryState
from bot.core.invitations import DAY, Campaign, InvitationState
from bot.core.studies import Study, StudyBook
from storage.sqlite import SQLiteStore

PEOPLE = ("U0LOST0001", "U0DOWN0001")
MONDAY_8_UTC = 1_799_049_600.0  # 09:00 in Berlin, the fake's default time zone
LEASE = 60.0
HOUR = 3600.0


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    async with SQLiteStore(tmp_path / "bridge.db") as opened:
        yield opened


def markers(fake: FakeSlack, user: str) -> list[str]:
    """The campaign messages in the user's DM, by their buttons' block (ib_invite, ib_invite:r1, …)."""
    found = []
    for message in fake.bot_messages(fake.dm_channel_of(user)):
        found += [b["block_id"] for b in message["blocks"] or [] if str(b.get("block_id", "")).startswith("ib_invite")]
    return found


async def test_a_lost_answer_or_a_refused_post_neither_doubles_nor_skips_a_reminder(
    fake_slack: FakeSlack, store: SQLiteStore, tmp_path: Path
) -> None:
    for user in PEOPLE:
        fake_slack.add_user(user, user.lower())
    campaign = Campaign("c1", "default", "slack", fake_slack.team_id, MONDAY_8_UTC, reminder_after=(DAY, DAY))
    await store.create_campaign(campaign)
    await store.add_invitees(campaign, PEOPLE, MONDAY_8_UTC)
    clock = ManualClock(MONDAY_8_UTC)
    desk = InvitationDesk(store, StudyBook((Study(id="default", name="Onboarding"),)), clock, send_lease=LEASE)
    budget = SlackBudget({method: 6000.0 for method in DEFAULT_LIMITS})
    client = make_client(fake_slack.bot_token, fake_slack.api_url)
    sender = SlackInvitations(desk, SlackAdapter(client, lambda _: MemoryState(), budget=budget))
    try:
        assert (await desk.sweep(sender, "slack")).invited == 2
        clock.advance(DAY + 2 * HOUR)  # Tuesday 11:00 in Berlin: reminder 1 is due
        fake_slack.force_http_error("chat.postMessage", 503)  # the first reminder is refused, nothing posted
        fake_slack.lose_answers("chat.postMessage")  # the second is posted, but its answer never arrives
        report = await desk.sweep(sender, "slack")
        assert report.reminded == 0 and report.failed == 2
        assert sorted(len(markers(fake_slack, user)) for user in PEOPLE) == [1, 2]
        for user in PEOPLE:  # "reminding #1" is in storage for both, not counted as sent
            row = await store.get_invitation("default", "slack", fake_slack.team_id, user)
            assert row is not None and (row.sending, row.reminders_sent) == (1, 0)
        assert (await desk.sweep(sender, "slack")).reminded == 0  # within the lease: nobody is tried again
        clock.advance(LEASE + 1)
        assert (await desk.sweep(sender, "slack")).reminded == 1  # the refused one goes; the lost one is found
        for user in PEOPLE:
            assert markers(fake_slack, user) == ["ib_invite", "ib_invite:r1"], user
        clock.advance(DAY)
        assert (await desk.sweep(sender, "slack")).reminded == 2
        clock.advance(30 * DAY)
        await desk.sweep(sender, "slack")
        for user in PEOPLE:  # the cap of two, each once
            assert markers(fake_slack, user) == ["ib_invite", "ib_invite:r1", "ib_invite:r2"], user
        counts = (await store.invitation_counts("default")).by_state
        assert counts == {InvitationState.REMINDED: 2}
        status = io.StringIO()
        settings = Settings(_env_file=None, database_path=str(tmp_path / "bridge.db"))  # type: ignore[call-arg]
        assert await campaign_status(settings, "default", False, out=status) == 0
        assert "  reminded       2  (×2: 2)" in status.getvalue().splitlines()  # reminded ×2, both of them
    finally:
        await budget.close()


async def test_a_reminder_waits_for_working_hours_in_the_time_zone_users_info_gives(
    fake_slack: FakeSlack, store: SQLiteStore
) -> None:
    fake_slack.add_user("U0BERLIN01", "berlin", tz="Europe/Berlin")
    fake_slack.add_user("U0LA000001", "la", tz="America/Los_Angeles")
    people = ["U0BERLIN01", "U0LA000001"]
    campaign = Campaign("c1", "default", "slack", fake_slack.team_id, MONDAY_8_UTC, reminders=1, reminder_after=(DAY,))
    await store.create_campaign(campaign)
    await store.add_invitees(campaign, people, MONDAY_8_UTC)
    clock = ManualClock(MONDAY_8_UTC)
    desk = InvitationDesk(store, StudyBook((Study(id="default", name="Onboarding"),)), clock)
    budget = SlackBudget({method: 6000.0 for method in DEFAULT_LIMITS})
    client = make_client(fake_slack.bot_token, fake_slack.api_url)
    sender = SlackInvitations(desk, SlackAdapter(client, lambda _: MemoryState(), budget=budget))
    try:
        assert (await desk.sweep(sender, "slack")).invited == 2
        clock.advance(DAY + 2 * HOUR)  # Tuesday 10:00 UTC: 11:00 in Berlin, 02:00 in Los Angeles
        report = await desk.sweep(sender, "slack")
        assert (report.reminded, report.postponed) == (1, 1)
        assert markers(fake_slack, "U0LA000001") == ["ib_invite"]
        clock.advance(7 * HOUR)  # 17:00 UTC: 09:00 in Los Angeles, still too early there
        assert (await desk.sweep(sender, "slack")).reminded == 0
        clock.advance(HOUR)  # 10:00 in Los Angeles
        assert (await desk.sweep(sender, "slack")).reminded == 1
        for user in people:
            assert markers(fake_slack, user) == ["ib_invite", "ib_invite:r1"], user
    finally:
        await budget.close()
