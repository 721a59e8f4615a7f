"""kill -9 of the sending process in the middle of a round of reminders, twice, then a restart: everyone gets
reminder 1 exactly once. The first kill lands after "reminding #1" was recorded and before anything was posted (the
DM opens slowly): the reminder must not be skipped. The second lands while a post is on its way (posts are slowed),
so Slack posts it after the process died: it must not be sent again. The restarted process sends the first and finds
the second in the DM (conversations.history)."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
from pathlib import Path

from fake_slack import FakeSlack
from test_slack_campaign_kill import finish_with, people_in, start_worker

from bot.core.invitations import DAY, Campaign, InvitationState
from storage.sqlite import SQLiteStore

PEOPLE = 120
TUESDAY_10_UTC = dt.datetime(2027, 1, 5, 10, 0, tzinfo=dt.UTC).timestamp()  # 11:00 in Berlin (the fake's zone)


def reminders_in_dm(fake: FakeSlack, user: str) -> list[str]:
    blocks = [b for m in fake.bot_messages(fake.dm_channel_of(user)) for b in m["blocks"] or []]
    return [str(b["block_id"]) for b in blocks if str(b.get("block_id", "")).startswith("ib_invite")]


async def test_kill_9_mid_reminders_and_a_restart_remind_everyone_exactly_once(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    users = people_in(fake_slack, PEOPLE)
    database = tmp_path / "bridge.db"
    invited_at = TUESDAY_10_UTC - 4 * DAY
    async with SQLiteStore(database) as store:
        campaign = Campaign("c1", "default", "slack", fake_slack.team_id, created_at=invited_at, reminders=1)
        await store.create_campaign(campaign)
        await store.add_invitees(campaign, users, now=invited_at)
        for user in users:  # invited four days ago: reminder 1 is due now
            row = await store.get_invitation("default", "slack", fake_slack.team_id, user)
            assert row is not None
            moved = await store.move_invitation(row.id, [InvitationState.QUEUED], InvitationState.INVITED, 1.0, 2.0)
            assert moved

    def calls(method: str) -> int:
        return len(fake_slack.calls_of(method))

    async def kill(worker: asyncio.subprocess.Process) -> None:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()

    # 1. killed while a DM is being opened (slowly) for a reminder recorded as "reminding #1": nothing posted yet
    fake_slack.set_latency("conversations.open", 0.2)
    first = await start_worker(database, fake_slack, str(TUESDAY_10_UTC))
    try:  # each reminder: users.info (time zone), users.info and conversations.open (sending), chat.postMessage
        await fake_slack.wait_for(
            lambda: calls("users.info") >= 60 and calls("users.info") == 2 * (calls("conversations.open") + 1),
            timeout=60.0,
        )
    finally:
        await kill(first)
    # 2. killed while a post is on its way (slowly): Slack posts it after the process died
    fake_slack.set_latency("conversations.open", 0.0)
    fake_slack.set_latency("chat.postMessage", 0.3)
    posted = calls("chat.postMessage")
    second = await start_worker(database, fake_slack, str(TUESDAY_10_UTC + 60.0))
    try:
        await fake_slack.wait_for(lambda: calls("chat.postMessage") >= posted + 10, timeout=60.0)
        await asyncio.sleep(0.15)
    finally:
        await kill(second)
    await asyncio.sleep(0.3)  # the last post lands
    assert calls("chat.postMessage") < PEOPLE
    # 3. a restart finishes the round
    fake_slack.set_latency("chat.postMessage", 0.0)
    third = await start_worker(database, fake_slack, str(TUESDAY_10_UTC + 120.0))
    await finish_with(third, database, InvitationState.REMINDED, PEOPLE)
    for user in users:
        assert reminders_in_dm(fake_slack, user) == ["ib_invite:r1"], user  # nobody skipped, nobody twice
