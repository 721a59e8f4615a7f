"""kill -9 of the sending process mid-campaign, then a restart: every invitee gets exactly one invitation."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from fake_slack import FakeSlack

from bot.core.invitations import Campaign, InvitationState
from storage.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("campaign_worker.py")
PEOPLE = 485
LEASE = 1.0


async def start_worker(database: Path, fake: FakeSlack, *extra: str) -> asyncio.subprocess.Process:
    """The sending worker on ``database`` (``extra``: its clock's start, see campaign_worker.py), once it is ready."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [str(WORKER), str(database), fake.api_url, fake.bot_token, str(LEASE), *extra]
    process = await asyncio.create_subprocess_exec(
        sys.executable, *args, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    assert (await process.stdout.readline()).strip() == b"ready"
    return process


def people_in(fake: FakeSlack, count: int) -> list[str]:
    """``count`` people in the workspace, and the tiers of the methods sending uses per second instead of per minute."""
    users = [f"U{n:04d}" for n in range(count)]
    for user in users:
        fake.add_user(user, user)
    for method, calls in (("users.info", 100), ("conversations.open", 50), ("conversations.history", 50)):
        fake.set_tier_limit(method, calls, window=1.0)
    return users


async def finish_with(worker: asyncio.subprocess.Process, database: Path, state: InvitationState, people: int) -> None:
    """Wait until all ``people`` invitees are in ``state`` (the worker's doing), then kill the worker."""
    try:
        async with SQLiteStore(database) as store:
            for _ in range(6000):
                counts = (await store.invitation_counts("default")).by_state
                if counts.get(state) == people:
                    break
                await asyncio.sleep(0.05)
            assert counts == {state: people}
    finally:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()


async def test_kill_9_mid_campaign_and_a_restart_invite_everyone_exactly_once(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    users = people_in(fake_slack, PEOPLE)
    database = tmp_path / "bridge.db"
    async with SQLiteStore(database) as store:
        campaign = Campaign("c1", "default", "slack", fake_slack.team_id, created_at=1.0)
        await store.create_campaign(campaign)
        assert await store.add_invitees(campaign, users, now=1.0) == PEOPLE

    def posted() -> int:
        return len(fake_slack.calls_of("chat.postMessage"))

    first = await start_worker(database, fake_slack)
    try:
        await fake_slack.wait_for(lambda: posted() >= 200, timeout=120.0)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    assert first.returncode == -signal.SIGKILL
    assert posted() < PEOPLE
    await finish_with(await start_worker(database, fake_slack), database, InvitationState.INVITED, PEOPLE)
    channels = [call.args["channel"] for call in fake_slack.calls_of("chat.postMessage")]
    assert len(channels) == PEOPLE and len(set(channels)) == PEOPLE  # everyone once, nobody twice
    assert fake_slack.rate_stats("conversations.open").limited == 0
